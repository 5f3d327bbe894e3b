from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "telesante.directory"
    verbose_name = _("Annuaire de l'offre de télésanté")
