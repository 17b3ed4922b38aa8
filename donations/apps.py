from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Collaboration and delivery")

    def ready(self):
        from django.urls import register_converter

        from donations.converters import TokenConverter

        register_converter(TokenConverter, "token")
