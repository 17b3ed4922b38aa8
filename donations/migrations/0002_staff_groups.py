"""The staff roles as groups with their permissions (docs/staff.md). Data only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ["locations", "needs", "donations"]
PROVINCIAL = "Provincial staff"
AREA_OFFICER = "Area officer"
AUDITOR = "Auditor"

# (app label, codename): an area officer works pledges, needs, sites, contacts and deliveries of their
# own area (locations.scoping), records deliveries, and reads the reference lists the forms need.
AREA_OFFICER_PERMISSIONS = [
    *[
        (app, f"{action}_{model}")
        for app, model in [
            ("donations", "pledge"),
            ("needs", "need"),
            ("locations", "site"),
            ("locations", "contactperson"),
            ("donations", "delivery"),
        ]
        for action in ("view", "change")
    ],
    ("donations", "add_delivery"),
    ("donations", "view_pledgeevent"),
    ("donations", "view_opd"),
    ("locations", "view_region"),
    ("needs", "view_category"),
    ("needs", "view_aidtype"),
]
# The outbox holds donors' addresses and the mails' text: staff of the bureau only.
AUDITOR_EXCLUDED = {"view_outboundmail"}


def create_groups(apps, schema_editor):
    # Permissions are created after migrate by a signal; on a fresh database they do not exist yet.
    # The migration state's app configs are stubs without a models module, which create_permissions
    # takes to mean "no models": mark them for the call.
    for label in ["auth", "contenttypes", *APPS]:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label__in=APPS)

    provincial, _ = Group.objects.get_or_create(name=PROVINCIAL)
    provincial.permissions.set(ours)

    officer, _ = Group.objects.get_or_create(name=AREA_OFFICER)
    officer.permissions.set(
        [
            ours.get(content_type__app_label=app, codename=codename)
            for app, codename in AREA_OFFICER_PERMISSIONS
        ]
    )

    auditor, _ = Group.objects.get_or_create(name=AUDITOR)
    auditor.permissions.set(
        ours.filter(codename__startswith="view_").exclude(codename__in=AUDITOR_EXCLUDED)
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[PROVINCIAL, AREA_OFFICER, AUDITOR]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("locations", "0002_add_history"),
        ("needs", "0003_add_history"),
        ("donations", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
