"""A server process's one-time work done before its first request rather than during it: the
URL resolver of each language (the first `reverse` of a process compiles every route, 300 ms),
the gettext catalogues, the project's templates and a database connection. Run at the ASGI
lifespan's startup (`telesante serve`), so that the first users of a freshly started process
do not wait a second behind it.

Then the objects made so far (modules, routes, templates: 175,000) are frozen out of the garbage
collector: each of its full passes stops every thread of the process, and walked them all, up to
350 ms under load (3 in 300 requests of the capacity mix); frozen, 26 ms at most."""

import gc
import logging
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger(__name__)


def project_templates() -> list[str]:
    """Names of the platform's own templates (those under src/telesante), relative to their
    template directory."""
    names = []
    for folder in sorted(settings.BASE_DIR.glob("**/templates")):
        names += [str(p.relative_to(folder)) for p in sorted(folder.rglob("*.html"))]
    return names


def warm() -> float:
    """Do the one-time work; returns the seconds it took."""
    started = time.perf_counter()
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.reverse_dict  # noqa: B018  (populated per language on first access)
    for name in project_templates():
        try:
            get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):  # a fragment of another app's tree
            log.warning("template not precompiled: %s", name)
    for alias in connections:
        connections[alias].ensure_connection()
        connections[alias].close()  # back to the pool
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


async def lifespan(scope: dict, receive: Callable, send: Callable) -> None:
    """The ASGI lifespan protocol: warm up at startup; nothing to do at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                seconds = await sync_to_async(warm, thread_sensitive=False)()
                log.info("process warmed up in %.2f s", seconds)
            except Exception:  # the database away at startup: serve anyway (503 until it is back)
                log.exception("warm-up incomplete")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
