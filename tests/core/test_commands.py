"""The `telesante` commands of the core app: the background worker and the server."""

import pytest
import uvicorn
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult


# The worker closes connections it finds in a transaction: no test transaction around it.
@pytest.mark.django_db(transaction=True)
def test_worker_in_batch_mode_runs_the_escalation_and_stops(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("worker", batch=True)
    results = {r.task_path: r for r in DBTaskResult.objects.all()}
    assert set(results) == {
        "telesante.teleexpertise.tasks.escalate",
        "telesante.teleconsultation.tasks.remind",
        "telesante.telesurveillance.tasks.monitor",
        "telesante.outbox.tasks.send_outbox",
        "telesante.accounts.tasks.clear_expired_sessions",
    }
    assert all(r.status == "SUCCESSFUL" for r in results.values())
    escalation = results["telesante.teleexpertise.tasks.escalate"].return_value
    assert escalation == {"widened": 0, "reminded": 0, "coordinator": 0}
    reminders = results["telesante.teleconsultation.tasks.remind"].return_value
    assert reminders == {"day": 0, "hour": 0}
    checks = results["telesante.telesurveillance.tasks.monitor"].return_value
    assert checks == {"missing": 0, "delivered": 0, "flagged": 0, "forfaits": 0}
    assert results["telesante.outbox.tasks.send_outbox"].return_value == {}


def test_serve_starts_uvicorn_on_the_asgi_application(settings, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    settings.DEBUG = True
    call_command("serve", host="0.0.0.0", port=8123, workers=2)
    assert "Télésanté sur http://0.0.0.0:8123/" in capsys.readouterr().out
    [(app, options)] = calls
    assert app == "telesante.asgi:application"
    assert (options["host"], options["port"], options["workers"]) == ("0.0.0.0", 8123, 2)
    # The client's address is Django's to settle (TELESANTE_TRUSTED_PROXIES), not uvicorn's.
    assert options["proxy_headers"] is False
    # The lifespan's startup warms the process up before its first request (core/warmup.py).
    assert options["lifespan"] == "on"


def test_serve_in_production_collects_static_files_first(db, settings, monkeypatch, tmp_path):
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    settings.DEBUG = False
    settings.DEMO = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("serve")
    assert (tmp_path / "static" / "css" / "app.css").exists()
