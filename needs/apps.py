from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "needs"
    verbose_name = _("Needs")

    def ready(self):
        # Registers the map layers' snapshots (ksbb.lib.snapshots), which the background worker rebuilds.
        from needs import areas, layer, summary  # noqa: F401
