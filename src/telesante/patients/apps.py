from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.patients"
    label = "patients"
