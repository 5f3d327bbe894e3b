from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "telesante.indicators"
    verbose_name = _("Indicateurs d'activité")

    def ready(self) -> None:
        from telesante.indicators import signals  # noqa: F401 (connects the receivers)
