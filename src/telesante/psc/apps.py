from django.apps import AppConfig


class PscConfig(AppConfig):
    name = "telesante.psc"
    label = "psc"
    verbose_name = "Pro Santé Connect"

    def ready(self) -> None:
        from telesante.psc import session  # noqa: F401 (its login receiver)
