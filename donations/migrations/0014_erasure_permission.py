"""Who may erase a donor's personal data on their request: provincial staff (the bureau that answers
such requests). Area officers and auditors may not. Data only."""

from django.db import migrations

from ksbb.lib.grants import grant_to_groups

GRANTS = {"Provincial staff": ["erase_personal_data"]}


def grant(apps, schema_editor):
    """Also called by tests.factories.seed_staff_groups."""
    grant_to_groups(apps, "donations", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("donations", "0013_collaborator_erasure")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
