"""Production as the hosting team runs it: Debian's nginx with `deploy/nginx/telesante.conf`
(TLS, HTTP/2, WebSockets, static files) in front of two `telesante serve` processes sharing
Redis. A page, an API call, a WebSocket call (`telesante probe-call`) whose two peers land on
different processes, and the client's real address in the audit trail."""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from telesante.accounts.models import ApiToken
from telesante.core.models import AuditEntry
from telesante.core.tls import self_signed
from tests.conftest import require_service
from tests.e2e.server import TELESANTE, free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = os.environ.get("TELESANTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "telesante.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The client comes from another loopback address than nginx's, as a real one would.
CLIENT_IP = "127.0.0.2"


def require_nginx() -> None:
    if Path(NGINX).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("nginx absent : `make install` l'installe (paquet nginx-light).")
    pytest.skip("nginx absent")


def site_config(upstreams: list[int], http_port: int, tls_port: int, certs: Path, var: Path):
    """deploy/nginx/telesante.conf with this machine's ports and paths, nothing else changed."""
    text = SITE.read_text()
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in upstreams
    )
    text = re.sub(r"(    server 127\.0\.0\.1:800\d [^\n]*\n)+", servers, text)
    text = re.sub(r"\n\s*listen \[::\]:[^\n]*", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;")
    text = text.replace("/etc/ssl/telesante", str(certs))
    text = text.replace("root /var/lib/telesante;", f"root {var};")
    assert text.count(str(certs)) == 2 and f"root {var};" in text
    return text


@contextmanager
def running_nginx(tmp: Path, site: str, tls_port: int, connections: int = 256) -> Iterator[Path]:
    """nginx with the site; `connections` per worker (clients and upstreams together)."""
    tmp.mkdir(exist_ok=True)
    (tmp / "site.conf").write_text(site)
    log = tmp / "access.log"
    (tmp / "nginx.conf").write_text(
        f"""user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    include /etc/nginx/mime.types;
    log_format deploy '$request_id $status "$request" $upstream_addr';
    access_log {log} deploy;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    error = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
                    pytest.fail(f"nginx n'a pas démarré :\n{error}")
                time.sleep(0.05)
        yield log
    finally:
        proc.terminate()
        proc.wait(5)


def request(port: int, cert: Path, path: str, headers: dict | None = None):
    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=context, source_address=(CLIENT_IP, 0), timeout=10
    )
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


@pytest.fixture
def region(settings, tmp_path):
    """nginx on TLS in front of two server processes sharing Redis, static files collected."""
    require_nginx()
    require_service("Redis", REDIS_URL, 6379)
    var = tmp_path / "var"
    env = {**os.environ, "TELESANTE_VAR_DIR": str(var), "TELESANTE_DEBUG": "1"}
    subprocess.run(
        [str(TELESANTE), "collectstatic", "--noinput", "--verbosity", "0"], env=env, check=True
    )
    shared = {
        "TELESANTE_REDIS_URL": REDIS_URL,
        "TELESANTE_TRUSTED_PROXIES": "127.0.0.1",
        "TELESANTE_LOG_FORMAT": "json",
        "TELESANTE_LOG_LEVEL": "INFO",
        # A process killed outright leaves presences: its pages, back through the other
        # process within this delay, resume them (and the other forgets them after it).
        "TELESANTE_PRESENCE_SECONDS": "20",
    }
    media = Path(settings.MEDIA_ROOT)
    certs = tmp_path / "certs"
    certs.mkdir()
    cert, _key = self_signed(certs)
    http_port, tls_port = free_port(), free_port()
    with (
        running_server(media, tmp_path / "one", shared) as one,
        running_server(media, tmp_path / "two", shared) as two,
    ):
        ports = [int(s.url.rsplit(":", 1)[1]) for s in (one, two)]
        site = site_config(ports, http_port, tls_port, certs, var)
        with running_nginx(tmp_path / "nginx", site, tls_port) as access_log:
            yield {
                "url": f"https://127.0.0.1:{tls_port}",
                "tls_port": tls_port,
                "http_port": http_port,
                "cert": cert,
                "access_log": access_log,
                "servers": {f"127.0.0.1:{p}": s for p, s in zip(ports, (one, two), strict=True)},
                "var": var,
            }


def access_lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()]


def logged_by_nginx(log: Path, request_id: str) -> None:
    """nginx writes a request's line once the answer is sent: wait for it, a few seconds."""
    deadline = time.monotonic() + 5
    while not any(line[0] == request_id for line in access_lines(log)):
        assert time.monotonic() < deadline, f"{request_id} absent du journal de nginx"
        time.sleep(0.05)


def test_pages_api_static_and_http2_through_nginx(region, world):
    port, cert = region["tls_port"], region["cert"]
    # TLS with HTTP/2 offered by ALPN.
    context = ssl.create_default_context(cafile=str(cert))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}
    # Plain HTTP is sent to HTTPS.
    plain = http.client.HTTPConnection("127.0.0.1", region["http_port"], timeout=5)
    plain.request("GET", "/compte/login/")
    redirect = plain.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location").startswith("https://")
    # A page, with the id nginx gave it in the platform's answer and in nginx's log.
    response, body = request(port, cert, "/compte/login/")
    assert response.status == 200
    assert "Connexion" in body.decode()
    request_id = response.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    logged_by_nginx(region["access_log"], request_id)
    logged = [
        json.loads(line)
        for s in region["servers"].values()
        for line in s.log.read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(entry.get("request_id") == request_id for entry in logged)
    # Static files come from nginx itself, out of the collected directory.
    css = next((region["var"] / "static").rglob("*.css"))
    relative = css.relative_to(region["var"]).as_posix()
    response, body = request(port, cert, f"/{relative}")
    assert response.status == 200 and body == css.read_bytes()
    assert response.getheader("X-Request-ID") is None  # not through the platform
    # Uploads are never served from disk, metrics never through the public proxy.
    assert request(port, cert, "/media/anything.pdf")[0].status == 404
    assert request(port, cert, "/metrics")[0].status == 404
    # An API call, audited with the client's own address, not nginx's.
    _token, raw = ApiToken.issue(world.doctor_a)
    patient = world.patient_a
    response, body = request(
        port, cert, f"/api/v1/patients/{patient.pk}", {"Authorization": f"Bearer {raw}"}
    )
    assert response.status == 200, body
    assert json.loads(body)["id"] == patient.pk
    entry = AuditEntry.objects.filter(patient_id=patient.pk).latest("pk")
    assert entry.ip == CLIENT_IP


def test_a_call_through_nginx_with_peers_on_two_processes(region, world):
    """`telesante probe-call` as an operator runs it against the public address: two WebRTC
    peers over WebSockets through nginx, each on another server process, video both ways."""
    _token, raw = ApiToken.issue(world.doctor_a)
    env = {**os.environ, "SSL_CERT_FILE": str(region["cert"])}
    done = subprocess.run(
        [str(TELESANTE), "probe-call", "--base-url", region["url"], "--token", raw, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["frames_a"] > 0 and result["frames_b"] > 0
    sockets = [line for line in access_lines(region["access_log"]) if "/ws/rooms/" in line[3]]
    assert len(sockets) == 2
    assert {line[1] for line in sockets} == {"101"}  # upgraded to WebSocket
    assert {line[-1] for line in sockets} == set(region["servers"])  # one peer on each
