"""A server process warms up at the ASGI lifespan's startup, before its first request: routes of
each language, the platform's templates, a database connection."""

import asyncio
import gc

import pytest
from django.db import OperationalError
from django.template import engines
from django.urls import clear_url_caches, get_resolver

from telesante.asgi import application
from telesante.core import warmup


@pytest.fixture(autouse=True)
def collectable_again():
    """The test process's objects go back to the collector after each warm-up."""
    yield
    gc.unfreeze()


def test_every_platform_template_is_found_by_its_name():
    names = warmup.project_templates()
    assert "base.html" in names and "teleconsultation/slot_calendar.html" in names
    assert all(not name.startswith("/") for name in names)


@pytest.mark.django_db(transaction=True)
def test_warm_compiles_routes_and_templates_and_opens_the_database(caplog):
    clear_url_caches()
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    assert warmup.warm() > 0
    resolver = get_resolver()
    assert {"fr", "en"} <= set(resolver._reverse_dict)
    assert "base.html" in {key.split("-")[0] for key in loader.get_template_cache}
    assert "template not precompiled" not in caplog.text
    # What is kept for the process's life is out of the collector's full passes.
    assert gc.get_freeze_count() > 0


@pytest.mark.django_db(transaction=True)
def test_the_application_warms_up_at_lifespan_startup_and_stops_cleanly(caplog):
    caplog.set_level("INFO", logger="telesante.core.warmup")
    clear_url_caches()
    events = asyncio.Queue()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def scenario() -> None:
        await events.put({"type": "lifespan.startup"})
        await events.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(application({"type": "lifespan"}, events.get, send), 5)

    asyncio.run(scenario())
    assert "process warmed up in" in caplog.text
    assert {"fr", "en"} <= set(get_resolver()._reverse_dict)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


@pytest.mark.django_db
def test_a_template_that_does_not_compile_is_logged_not_fatal(monkeypatch, caplog):
    monkeypatch.setattr(warmup, "project_templates", lambda: ["no/such/template.html"])
    warmup.warm()
    assert "template not precompiled: no/such/template.html" in caplog.text


def test_a_failed_warm_up_does_not_keep_the_process_from_serving(monkeypatch, caplog):
    def database_away() -> float:
        raise OperationalError("connection refused")

    monkeypatch.setattr(warmup, "warm", database_away)
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def scenario() -> None:
        events = asyncio.Queue()
        await events.put({"type": "lifespan.startup"})
        await events.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(warmup.lifespan({"type": "lifespan"}, events.get, send), 5)

    asyncio.run(scenario())
    assert sent[0] == {"type": "lifespan.startup.complete"}
    assert "warm-up incomplete" in caplog.text
