"""Django's ASGI handler, with the middleware chain and the view entered in one trip."""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse


class OneTripHandler(ASGIHandler):
    """Django's ASGI handler runs every hook of an async-capable middleware, and a sync view,
    through sync_to_async: a switch to the request's thread and back each. The project's chain
    has sync-only middleware in the middle, so it went async, sync, then async again: six such
    switches per request. Built sync, the chain and the view run in one trip to that thread; an
    async view (measurements, FHIR transactions) is awaited from there on the event loop, as it
    already was below the sync middleware."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponse:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
