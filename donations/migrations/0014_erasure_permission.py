"""Who may erase a donor's personal data on their request: provincial staff (the bureau that answers
such requests). Area officers and auditors may not. Data only."""

from django.db import migrations

GRANTS = {"Provincial staff": ["erase_personal_data"]}


def grant(apps, schema_editor):
    """Also called by tests.factories.seed_staff_groups."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("donations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label="donations", codename__in=codenames
        )
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("donations", "0013_collaborator_erasure")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
