"""Who sees the alert subscriptions (docs/alerts.md): provincial staff read them (the address only
with the personal-data permission), export and erase them on a subscriber's request. Area officers
and auditors do not: a subscription belongs to no one area. Data only; the groups are donations'
0002 (a dependency of migrations only: the code of alerts never imports donations)."""

from django.db import migrations

from ksbb.lib.grants import grant_to_groups

GRANTS = {
    "Provincial staff": ["view_subscription", "delete_subscription", "view_alertmail"],
}


def grant(apps, schema_editor):
    """Also called by tests.factories.seed_staff_groups."""
    grant_to_groups(apps, "alerts", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("donations", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
