from django.apps import AppConfig


class RegulationConfig(AppConfig):
    name = "telesante.regulation"
    verbose_name = "Télérégulation"
