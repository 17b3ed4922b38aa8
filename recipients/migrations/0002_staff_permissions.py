"""Who reads the contact persons' links and messages (docs/staff.md, docs/recipients.md). Data only.

Provincial staff: everything, as for the other apps. Area officers: the links and messages of their
area (they send and revoke links through the contact persons' page, a change of the contact).
Auditors: the links (whether each site's contact can be reached), not the messages, which hold
phone numbers and links, as they do not read the donors' mail."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Provincial staff": [
        f"{action}_{model}"
        for model in ("contactlink", "outboundmessage")
        for action in ("view", "add", "change", "delete")
    ],
    "Area officer": ["view_contactlink", "view_outboundmessage"],
    "Auditor": ["view_contactlink"],
}


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="recipients", codename__in=codenames
    )


def apply(apps, schema_editor):
    # As in donations' 0002: the permissions exist only once create_permissions has run for the app.
    app_config = apps.get_app_config("recipients")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.add(*_permissions(apps, codenames))


def revert(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("recipients", "0001_initial"),
        ("donations", "0006_personal_data_roles"),
    ]

    operations = [migrations.RunPython(apply, revert)]
