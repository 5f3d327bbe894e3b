from django.apps import AppConfig
from django.core.signals import request_finished


class Config(AppConfig):
    name = "telesante.accounts"
    label = "accounts"

    def ready(self) -> None:
        from telesante.accounts import sessions

        # A thread that serves one request after another (a WSGI server's) keeps its context:
        # the user a request's session read is not left for the next one.
        request_finished.connect(sessions.forget_user_read, dispatch_uid="forget_user_read")
