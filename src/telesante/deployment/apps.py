from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    name = "telesante.deployment"
    verbose_name = "Suivi du déploiement"
