"""Giving the staff groups new permissions from a data migration (the groups are donations' 0002)."""

from django.contrib.auth.management import create_permissions


def grant_to_groups(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Add `app_label`'s permissions (codenames) to the named groups that exist. The app's
    permissions are created first: Django makes them only after all migrations ran."""
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in grants.items():
        permissions = Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)
