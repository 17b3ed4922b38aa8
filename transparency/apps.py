from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransparencyConfig(AppConfig):
    """Every public figure, defined once; the transparency page and the open data behind it. Reads
    the other apps and writes nothing."""

    name = "transparency"
    verbose_name = _("Transparency")

    def ready(self):
        # Registers the public figures' snapshots (ksbb.lib.snapshots), which the background worker rebuilds.
        from transparency import figures, ledger_figures  # noqa: F401
