from django.apps import AppConfig

# Imported as a module: a class imported by name here would count as one of this module's app configs.
from django.contrib.admin import apps as admin_apps


class KsbbConfig(AppConfig):
    default = True  # "ksbb" in INSTALLED_APPS means this one, not the admin's below
    name = "ksbb"
    verbose_name = "KSBB"


class KsbbAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the portal's site (ksbb/admin_site.py)."""

    default = False
    default_site = "ksbb.admin_site.KsbbAdminSite"
