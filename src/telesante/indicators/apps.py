from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "telesante.indicators"
    verbose_name = "Indicateurs d'activité"

    def ready(self) -> None:
        from telesante.indicators import signals  # noqa: F401 (connects the receivers)
