"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes added per app)."""

import os
import sys

import django

# A 10,000-measurement batch keeps a worker's interpreter busy for a few hundred milliseconds;
# at Python's default 5 ms switch interval every other request of the worker (an alert, a page,
# a signaling message) waits up to that long for the interpreter lock after each database
# round trip. At 1 ms they keep moving.
sys.setswitchinterval(0.001)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telesante.settings")
django.setup(set_prefix=False)

from telesante.core.handler import OneTripHandler  # noqa: E402  (needs Django set up first)

django_asgi = OneTripHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from telesante.core.observability import CountWebSockets  # noqa: E402
from telesante.core.shedding import ShedLoad  # noqa: E402
from telesante.core.warmup import lifespan  # noqa: E402
from telesante.core.ws import NoRouteConsumer  # noqa: E402
from telesante.notifications.consumers import NotificationConsumer  # noqa: E402
from telesante.regulation.consumers import CallerConsumer  # noqa: E402
from telesante.rooms.consumers import RoomConsumer  # noqa: E402
from telesante.telesurveillance.consumers import BoardConsumer  # noqa: E402

# The rooms' sockets (the caller's of a télérégulation too) are authenticated by their signed
# token alone: no session read, no user looked up (two trips to the database thread less before
# a join). The notifications' and the boards' know their user by the session.
websocket_urlpatterns = [
    path("ws/notifications/", AuthMiddlewareStack(NotificationConsumer.as_asgi())),
    path("ws/rooms/<str:slug>/", RoomConsumer.as_asgi()),
    path("ws/appel/<str:slug>/", CallerConsumer.as_asgi()),
    path(
        "ws/telesurveillance/equipes/<int:team_id>/",
        AuthMiddlewareStack(BoardConsumer.as_asgi()),
    ),
    re_path(r"", NoRouteConsumer.as_asgi()),  # any other path: refused, not a server error
]

application = ProtocolTypeRouter(
    {
        "http": ShedLoad(django_asgi),
        "websocket": CountWebSockets(AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
