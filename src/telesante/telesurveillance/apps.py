from django.apps import AppConfig


class TelesurveillanceConfig(AppConfig):
    name = "telesante.telesurveillance"
    verbose_name = "Télésurveillance"
