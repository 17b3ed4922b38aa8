"""Who reads, starts and continues recurring needs (needs.NeedSeries): provincial staff everything,
area officers (in their area) read, add and change them, auditors read them. Beside the staff
groups this app's 0002 made. Data only."""

from django.db import migrations

from ksbb.lib.grants import grant_to_groups

GRANTS = {
    "Provincial staff": ["view_needseries", "add_needseries", "change_needseries"],
    "Area officer": ["view_needseries", "add_needseries", "change_needseries"],
    "Auditor": ["view_needseries"],
}


def grant(apps, schema_editor):
    """Also called by tests.factories.seed_staff_groups."""
    grant_to_groups(apps, "needs", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0009_proposal_permissions"),
        ("needs", "0009_need_series"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
