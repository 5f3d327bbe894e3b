from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.outbox"
    label = "outbox"
