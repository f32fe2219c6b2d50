from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PingyiConfig(AppConfig):
    name = "pingyi"
    verbose_name = _("评议")
