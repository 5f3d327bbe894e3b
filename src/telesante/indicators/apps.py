from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "telesante.indicators"
    verbose_name = "Indicateurs d'activité"
