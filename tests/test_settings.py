"""Settings are read from TELESANTE_* at import: each case runs in a fresh Python process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TELESANTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def clean_env(tmp_path: Path, **telesante) -> dict[str, str]:
    """The parent's environment without any TELESANTE_* variable (no DEBUG, no DEMO), nor the
    async-safety escape hatch the browser tests set for their own process."""
    dropped = {"DJANGO_SETTINGS_MODULE", "CI", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TELESANTE_") and k not in dropped
    }
    env["DJANGO_SETTINGS_MODULE"] = "telesante.settings"
    env["TELESANTE_VAR_DIR"] = str(tmp_path / "var")
    env.update({f"TELESANTE_{k}": v for k, v in telesante.items()})
    return env


def run_python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


SETUP = "import django; django.setup(); from django.conf import settings; "


def strong_key() -> str:
    return secrets.token_urlsafe(64)


def test_production_refuses_the_default_secret_key(tmp_path):
    result = run_python(SETUP, clean_env(tmp_path), tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TELESANTE_SECRET_KEY doit être défini" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = run_python(SETUP, clean_env(tmp_path, SECRET_KEY="court" * 9), tmp_path)
    assert result.returncode != 0
    assert "50 caractères au moins" in result.stderr


DESCRIBE = SETUP + (
    "import json; from channels.layers import get_channel_layer; "
    "print(json.dumps({'key': settings.SECRET_KEY, 'hosts': settings.ALLOWED_HOSTS, "
    "'cache': settings.CACHES['default']['BACKEND'], "
    "'layer': type(get_channel_layer()).__module__, "
    "'tasks': settings.TASKS['default']['BACKEND']}))"
)


@pytest.fixture(scope="module", params=["DEBUG", "DEMO"])
def laptop_settings(request, tmp_path_factory) -> dict:
    """Settings of a process started with TELESANTE_DEBUG=1 or TELESANTE_DEMO=1."""
    tmp_path = tmp_path_factory.mktemp(request.param.lower())
    result = run_python(DESCRIBE, clean_env(tmp_path, **{request.param: "1"}), tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_or_demo_mode_starts_with_the_development_key(laptop_settings):
    assert laptop_settings["key"] == "insecure-dev-key-change-me"
    assert laptop_settings["hosts"] == ["127.0.0.1", "localhost"]


def test_without_redis_the_cache_and_channel_layer_stay_in_process(laptop_settings):
    assert laptop_settings["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert laptop_settings["layer"] == "channels.layers"


def test_debug_or_demo_run_background_tasks_at_once(laptop_settings):
    assert laptop_settings["tasks"] == "django_tasks.backends.immediate.ImmediateBackend"


def test_production_settings_are_strict(tmp_path):
    code = SETUP + (
        "print(json.dumps([settings.DEBUG, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "settings.ALLOWED_HOSTS, settings.TASKS['default']['BACKEND'], "
        "settings.DATA_UPLOAD_MAX_MEMORY_SIZE]))"
    )
    env = clean_env(
        tmp_path, SECRET_KEY=strong_key(), ALLOWED_HOSTS="example.org", MAX_REQUEST_BYTES="4096"
    )
    result = run_python("import json; " + code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        True,
        True,
        True,
        31536000,
        ["example.org"],
        "django_tasks_db.DatabaseBackend",
        4096,
    ]


def test_check_deploy_passes_with_a_strong_key_and_a_host(tmp_path):
    env = clean_env(tmp_path, SECRET_KEY=strong_key(), ALLOWED_HOSTS="example.org")
    result = subprocess.run(
        [str(BIN / "telesante"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_in_debug_mode(tmp_path):
    env = clean_env(tmp_path, DEBUG="1", SECRET_KEY=strong_key(), ALLOWED_HOSTS="example.org")
    result = subprocess.run(
        [str(BIN / "telesante"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment


def test_with_redis_the_cache_and_channel_layer_use_it(tmp_path):
    require_service("Redis", REDIS_URL, 6379)
    code = "\n".join(
        [
            "import asyncio, uuid, django",
            "django.setup()",
            "from django.conf import settings",
            "from django.core.cache import cache",
            "from channels.layers import get_channel_layer",
            "key = 'telesante-test-' + uuid.uuid4().hex",
            "cache.set(key, 'ok', 30)",
            "layer = get_channel_layer()",
            "async def roundtrip():",
            "    name = await layer.new_channel()",
            "    await layer.send(name, {'type': 'ping'})",
            "    return (await layer.receive(name))['type']",
            "print(settings.CACHES['default']['BACKEND'], cache.get(key),",
            "      type(layer).__module__, asyncio.run(roundtrip()))",
            "cache.delete(key)",
        ]
    )
    result = run_python(code, clean_env(tmp_path, DEBUG="1", REDIS_URL=REDIS_URL), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "ok",
        "channels_redis.core",
        "ping",
    ]


def test_an_idle_connection_outwaits_the_channel_layers_blocking_read(tmp_path):
    """A WebSocket with nothing to hear waits in BZPOPMIN for the layer's `brpop_timeout`; a
    socket timeout at or under it ended such connections with a TimeoutError (redis-py's 5 s
    default against channels_redis's 5 s read)."""
    require_service("Redis", REDIS_URL, 6379)
    code = "\n".join(
        [
            "import django",
            "django.setup()",
            "from channels.layers import get_channel_layer",
            "layer = get_channel_layer()",
            "socket = layer.create_pool(0).make_connection().socket_timeout",
            "print(socket > layer.brpop_timeout, socket < 60)",
        ]
    )
    result = run_python(code, clean_env(tmp_path, DEBUG="1", REDIS_URL=REDIS_URL), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
