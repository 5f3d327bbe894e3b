from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.notifications"
    label = "notifications"
