from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelesurveillanceConfig(AppConfig):
    name = "telesante.telesurveillance"
    verbose_name = _("Télésurveillance")
