"""Requests through the platform's ASGI application: the middleware chain and a sync view in one
trip to the request's thread, an async view awaited from there; answers unchanged."""

import json

import pytest
from asgiref.sync import SyncToAsync, async_to_sync, iscoroutinefunction
from asgiref.testing import ApplicationCommunicator

from telesante.asgi import django_asgi

pytestmark = pytest.mark.django_db(transaction=True)  # the views run in another thread


def ask(method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def exchange() -> list[dict]:
        app = ApplicationCommunicator(django_asgi, scope)
        await app.send_input({"type": "http.request", "body": body, "more_body": False})
        sent = [await app.receive_output(timeout=10)]
        while sent[-1].get("more_body", sent[-1]["type"] == "http.response.start"):
            sent.append(await app.receive_output(timeout=10))
        return sent

    sent = async_to_sync(exchange)()
    start = sent[0]
    headers = {name.lower(): value for name, value in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_the_chain_is_built_sync_and_entered_once(monkeypatch):
    assert not iscoroutinefunction(django_asgi._middleware_chain)
    trips: list[str] = []
    real = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        trips.append(getattr(self.func, "__qualname__", ""))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    status, headers, _body = ask("GET", "/healthz/live")
    assert status == 200
    assert headers[b"x-request-id"]  # the outer middleware ran, in the same trip
    # The chain and the view: one trip (the others are the request's signals and closing).
    assert trips.count("BaseHandler.get_response") == 1
    assert not any("process_" in name or "liveness" in name for name in trips)


def test_an_async_view_is_awaited_from_the_sync_chain():
    status, headers, body = ask("POST", "/api/v1/telesurveillance/measurements", b"{}")
    assert status == 401  # the async view's own authentication answered
    assert headers[b"content-type"].startswith(b"application/json")
    assert json.loads(body)
