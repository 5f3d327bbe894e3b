from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.core"
    label = "core"
