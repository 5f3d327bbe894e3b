from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.demo"
    label = "demo"
