from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "telesante.directory"
    verbose_name = "Annuaire de l'offre de télésanté"
