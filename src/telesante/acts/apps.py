from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.acts"
    label = "acts"
