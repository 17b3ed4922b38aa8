"""Who reads and decides the recipients' proposals (needs.Proposal): provincial staff everything, area
officers (in their area) read and decide them, auditors read them. Here, beside the staff groups this
app's 0002 made, so that the groups exist when it runs. Data only."""

from django.db import migrations

from ksbb.lib.grants import grant_to_groups

GRANTS = {
    "Provincial staff": ["view_proposal", "add_proposal", "change_proposal", "delete_proposal"],
    "Area officer": ["view_proposal", "change_proposal"],
    "Auditor": ["view_proposal"],
}


def grant(apps, schema_editor):
    """Who reads and decides the recipients' proposals (also called by
    tests.factories.seed_staff_groups)."""
    grant_to_groups(apps, "needs", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0008_receipts"),
        ("needs", "0008_proposals"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
