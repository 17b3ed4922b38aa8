from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self):
        from alerts import tasks
        from needs.signals import need_published

        # Wakes the sweep at once; the sweep also runs every few minutes (alerts.tasks).
        need_published.connect(tasks.on_need_published, dispatch_uid="alerts.on_need_published")
