from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.structures"
    label = "structures"
