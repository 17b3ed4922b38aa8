"""Who may see personal data and its access log, and who may read the staff's areas (docs/staff.md).

Provincial staff: both, as everything. Area officers: personal data of their area (they call contact
persons and donors to arrange deliveries), not the log. Auditors: neither, and no longer the list of
every staff member's assigned areas. Data only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Provincial staff": ["view_personal_data", "view_personaldataview"],
    "Area officer": ["view_personal_data"],
}
AUDITOR_REVOKED = ["view_staffarea", "view_personaldataview", "view_personal_data"]


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="locations", codename__in=codenames
    )


def apply(apps, schema_editor):
    # As in 0002: the permissions exist only once create_permissions has run for the app.
    app_config = apps.get_app_config("locations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.add(*_permissions(apps, codenames))
    for group in Group.objects.filter(name="Auditor"):
        group.permissions.remove(*_permissions(apps, AUDITOR_REVOKED))


def revert(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))
    for group in Group.objects.filter(name="Auditor"):
        group.permissions.add(*_permissions(apps, ["view_staffarea"]))


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0005_pledge_holds"),
        ("locations", "0003_personal_data_views"),
    ]

    operations = [migrations.RunPython(apply, revert)]
