from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.documents"
    label = "documents"
