from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.teleexpertise"
    label = "teleexpertise"
