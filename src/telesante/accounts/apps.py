from django.apps import AppConfig


class Config(AppConfig):
    name = "telesante.accounts"
    label = "accounts"
