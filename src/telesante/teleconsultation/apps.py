from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.teleconsultation"
    label = "teleconsultation"
