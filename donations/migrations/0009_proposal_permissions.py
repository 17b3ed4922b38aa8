"""Who reads and decides the recipients' proposals (needs.Proposal): provincial staff everything, area
officers (in their area) read and decide them, auditors read them. Here, beside the staff groups this
app's 0002 made, so that the groups exist when it runs. Data only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Provincial staff": ["view_proposal", "add_proposal", "change_proposal", "delete_proposal"],
    "Area officer": ["view_proposal", "change_proposal"],
    "Auditor": ["view_proposal"],
}


def grant(apps, schema_editor):
    """Who reads and decides the recipients' proposals (also called by
    tests.factories.seed_staff_groups)."""
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
        ("donations", "0008_receipts"),
        ("needs", "0008_proposals"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
