"""Who reads, starts and continues recurring needs (needs.NeedSeries): provincial staff everything,
area officers (in their area) read, add and change them, auditors read them. Beside the staff
groups this app's 0002 made. Data only."""

from django.db import migrations

GRANTS = {
    "Provincial staff": ["view_needseries", "add_needseries", "change_needseries"],
    "Area officer": ["view_needseries", "add_needseries", "change_needseries"],
    "Auditor": ["view_needseries"],
}


def grant(apps, schema_editor):
    """Also called by tests.factories.seed_staff_groups."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("needs")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label="needs", codename__in=codenames
        )
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0009_proposal_permissions"),
        ("needs", "0009_need_series"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
