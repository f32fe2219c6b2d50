from django.apps import AppConfig


class PingyiConfig(AppConfig):
    name = "pingyi"
    verbose_name = "评议"
