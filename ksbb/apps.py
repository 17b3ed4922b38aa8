from django.apps import AppConfig


class KsbbConfig(AppConfig):
    name = "ksbb"
    verbose_name = "KSBB"
