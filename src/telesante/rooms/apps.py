from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.rooms"
    label = "rooms"
