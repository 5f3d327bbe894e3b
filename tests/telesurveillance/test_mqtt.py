"""The MQTT bridge through the real Mosquitto: the shared broker (topics under a prefix unique
to the test), and a broker of our own restarted in the middle of a stream."""

import io
import json
import os
import queue
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.db import connections

from telesante.telesurveillance.bridge import Bridge, items_of, serial_of
from telesante.telesurveillance.models import Measurement
from tests.conftest import require_service
from tests.e2e.server import free_port
from tests.telesurveillance.conftest import NOW

MQTT_URL = os.environ.get("TELESANTE_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
MOSQUITTO = Path("/usr/sbin/mosquitto")
WAIT_SECONDS = 30


def wait_for(condition, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def message(serial: str, *ids: str, value: float = 80.0, device: str | None = None) -> str:
    return json.dumps(
        {
            "measurements": [
                {
                    "id": i,
                    "device": device or serial,
                    "type": "weight",
                    "value": value,
                    "unit": "kg",
                    "at": NOW.isoformat(),
                }
                for i in ids
            ]
        }
    )


@contextmanager
def running_bridge(url: str, prefix: str, **options) -> Iterator[Bridge]:
    bridge = Bridge(url, prefix=prefix, client_id=f"tsv-bridge-{uuid.uuid4().hex[:8]}", **options)
    stop = threading.Event()

    def run() -> None:
        try:
            bridge.run(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert bridge.connected.wait(10), "le pont ne s'est pas connecté"
    try:
        yield bridge
    finally:
        stop.set()
        thread.join(10)
        forget_session(url, bridge.client._client_id.decode())


def forget_session(url: str, client_id: str) -> None:
    """Drop the persistent session left on the broker by a test client."""
    host, port = url.split("//")[1].split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect(host, int(port))
        client.disconnect()
    except OSError:
        pass


@contextmanager
def publisher(port: int, host: str = "127.0.0.1") -> Iterator[mqtt.Client]:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"tsv-device-{uuid.uuid4().hex[:8]}",
        clean_session=False,
    )
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    connected = threading.Event()
    client.on_connect = lambda *_args: connected.set()
    client.connect_async(host, port)
    client.loop_start()
    assert connected.wait(10), "le dispositif ne se connecte pas"
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()
        forget_session(f"mqtt://{host}:{port}", client._client_id.decode())


def test_topics_and_payloads_are_checked():
    assert serial_of("p/telesante/v1/devices/SC-1/measurements", "p/") == "SC-1"
    assert serial_of("telesante/v1/devices/SC-1/autre", "") == ""
    assert serial_of("ailleurs/telesante/v1/devices/SC-1/measurements", "p/") == ""
    assert items_of(b"{", "SC-1")[1][0]["errors"] == {"__all__": ["JSON illisible."]}
    assert items_of(b"[]", "SC-1")[1][0]["errors"] == {"measurements": ["Liste attendue."]}
    kept, refused = items_of(message("SC-1", "a", device="SC-2").encode(), "SC-1")
    assert kept == [] and refused[0]["index"] == 0


@pytest.mark.django_db(transaction=True)
def test_measurements_published_over_mqtt_are_stored_once(tsv):
    require_service("Mosquitto", MQTT_URL, 1883)
    prefix = f"test-{uuid.uuid4().hex}/"
    topic = f"{prefix}telesante/v1/devices/SC-0001/measurements"
    port = int(MQTT_URL.rsplit(":", 1)[1])
    with running_bridge(MQTT_URL, prefix) as bridge, publisher(port) as device:
        device.publish(topic, message("SC-0001", "1", "2"), qos=1).wait_for_publish(5)
        device.publish(topic, message("SC-0001", "2", "3"), qos=1).wait_for_publish(5)  # resend
        device.publish(topic, message("SC-0001", "4", device="OX-0001"), qos=1)
        device.publish(topic, b"{pas du json", qos=1)
        device.publish(
            f"{prefix}telesante/v1/devices/SC-0001/measurements",
            message("SC-0001", "5", value=-1),
            qos=1,
        )
        # A reading in year 1 is refused alone: its message is acknowledged, not redelivered.
        year_one = message("SC-0001", "6", "7").replace(NOW.isoformat(), "0001-01-03T00:00:00Z", 1)
        device.publish(topic, year_one, qos=1)
        assert wait_for(lambda: bridge.stats.messages >= 6)
    assert sorted(Measurement.objects.values_list("message_id", flat=True)) == [
        "1",
        "2",
        "3",
        "7",
    ]
    assert (bridge.stats.accepted, bridge.stats.duplicates, bridge.stats.rejected) == (4, 1, 4)


@pytest.mark.django_db(transaction=True)
def test_refused_items_are_published_back_to_their_device(tsv):
    require_service("Mosquitto", MQTT_URL, 1883)
    prefix = f"test-{uuid.uuid4().hex}/"
    devices = f"{prefix}telesante/v1/devices"
    port = int(MQTT_URL.rsplit(":", 1)[1])
    replies: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    good = json.loads(message("SC-0001", "r1"))["measurements"][0]
    scale = {
        "measurements": [
            good,
            {**good, "id": "r2", "value": -1},
            {**good, "id": "r3", "device": "OX-0001"},
            {**good, "id": "r4", "unit": "lb"},
        ]
    }
    oximeter = {"measurements": [{**good, "id": "o1", "device": "OX-0001", "type": "spo2"}]}
    # A long flush time puts the three messages in one batch: ranks are counted per message.
    with (
        running_bridge(MQTT_URL, prefix, flush_seconds=1.0) as bridge,
        publisher(port) as device,
    ):
        device.on_message = lambda _c, _u, m: replies.put((m.topic, json.loads(m.payload)))
        device.on_subscribe = lambda *_args: subscribed.set()
        device.subscribe(f"{devices}/+/rejected", qos=1)
        assert subscribed.wait(10), "abonnement refusé"
        device.publish(f"{devices}/OX-0001/measurements", json.dumps(oximeter), qos=1)
        device.publish(f"{devices}/SC-0001/measurements", json.dumps(scale), qos=1)
        device.publish(f"{devices}/SC-0001/measurements", b"{pas du json", qos=1)
        got = [replies.get(timeout=WAIT_SECONDS) for _ in range(3)]
        assert wait_for(lambda: bridge.stats.messages >= 3)
    assert got[0] == (
        f"{devices}/OX-0001/rejected",
        {"rejected": [{"index": 0, "id": "o1", "errors": got[0][1]["rejected"][0]["errors"]}]},
    )
    assert list(got[0][1]["rejected"][0]["errors"]) == ["unit"]  # kg is no SpO2 unit
    topic, body = got[1]
    assert topic == f"{devices}/SC-0001/rejected"
    assert [(r["index"], r["id"], list(r["errors"])) for r in body["rejected"]] == [
        (1, "r2", ["value"]),
        (2, "r3", ["device"]),
        (3, "r4", ["unit"]),
    ]
    assert body["rejected"][1]["errors"]["device"] == ["Autre dispositif que le sujet."]
    assert got[2] == (
        f"{devices}/SC-0001/rejected",
        {"rejected": [{"index": None, "errors": {"__all__": ["JSON illisible."]}}]},
    )
    assert list(Measurement.objects.values_list("message_id", flat=True)) == ["r1"]


@contextmanager
def own_broker(tmp_path: Path) -> Iterator[tuple[int, callable]]:
    """A Mosquitto of our own with a persistence file; yields its port and a restart function."""
    if not MOSQUITTO.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MOSQUITTO} absent : requis en CI.")
        pytest.skip(f"{MOSQUITTO} absent")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {tmp_path}/\nmax_queued_messages 100000\n"
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    log = (tmp_path / "mosquitto.log").open("ab")
    procs = []

    def start() -> None:
        procs.append(subprocess.Popen([str(MOSQUITTO), "-c", str(config)], stdout=log, stderr=log))
        assert wait_for(lambda: _listening(port), 10), "Mosquitto ne démarre pas"

    def restart() -> None:
        procs[-1].terminate()  # a clean stop writes the persistence file
        procs[-1].wait(10)
        start()

    start()
    try:
        yield port, restart
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        log.close()


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_a_broker_restart_mid_stream_loses_and_duplicates_nothing(tsv, tmp_path):
    total = 400
    topic = "telesante/v1/devices/SC-0001/measurements"
    with own_broker(tmp_path) as (port, restart):
        url = f"mqtt://127.0.0.1:{port}"
        with running_bridge(url, "") as bridge, publisher(port) as device:
            for i in range(total):
                device.publish(topic, message("SC-0001", f"m{i}", value=80 + (i % 2)), qos=1)
                if i == total // 2:
                    restart()
                    assert wait_for(bridge.connected.is_set, 15)
            # Counted by the bridge: reading the table here would lock SQLite's shared cache.
            assert wait_for(lambda: bridge.stats.accepted >= total, 60)
    ids = list(Measurement.objects.values_list("message_id", flat=True))
    assert len(ids) == total
    assert set(ids) == {f"m{i}" for i in range(total)}


@pytest.mark.django_db(transaction=True)
def test_the_bridge_command_stops_after_its_idle_time():
    require_service("Mosquitto", MQTT_URL, 1883)
    out = io.StringIO()
    client_id = f"tsv-cmd-{uuid.uuid4().hex[:8]}"
    call_command(
        "mqtt_bridge",
        url=MQTT_URL,
        client_id=client_id,
        prefix=f"test-{uuid.uuid4().hex}/",
        idle_exit=1,
        stdout=out,
    )
    forget_session(MQTT_URL, client_id)
    assert "0 messages : 0 mesures acceptées" in out.getvalue()
