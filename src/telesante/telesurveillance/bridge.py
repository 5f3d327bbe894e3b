"""`telesante mqtt-bridge`: devices publish to `telesante/v1/devices/{serial}/measurements`
(QoS 1, the JSON of the HTTP batch API); the bridge feeds the same ingest service.

Nothing is lost across a broker or bridge restart: the session is persistent (fixed client id,
clean_session false, so the broker keeps the subscription and queues QoS 1 messages while the
bridge is away) and a message is acknowledged only once its batch is committed. A message
delivered twice (acknowledgement lost in a restart) is absorbed by the message ids.
"""

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import close_old_connections

from telesante.telesurveillance import ingest

log = logging.getLogger(__name__)
TOPIC = "telesante/v1/devices/+/measurements"
CLIENT_ID = "telesante-mqtt-bridge"


@dataclass
class Stats:
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    last_message_at: float = field(default_factory=time.monotonic)


def serial_of(topic: str, prefix: str) -> str:
    """The {serial} of `<prefix>telesante/v1/devices/{serial}/measurements`, or ""."""
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    return parts[3] if len(parts) == 5 and parts[4] == "measurements" else ""


def items_of(payload: bytes, serial: str) -> tuple[list, list[dict]]:
    """The message's items for its own device only (the broker's ACL binds a device to its
    topic; an item naming another device is refused here)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return [], [{"index": None, "errors": {"__all__": ["JSON illisible."]}}]
    items = body.get("measurements") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > ingest.MAX_ITEMS:
        return [], [{"index": None, "errors": {"measurements": ["Liste attendue."]}}]
    kept, refused = [], []
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("device", serial) == serial:
            kept.append({**item, "device": serial})
        else:
            refused.append(
                {"index": index, "errors": {"device": ["Autre dispositif que le sujet."]}}
            )
    return kept, refused


class Bridge:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "",
        client_id: str = CLIENT_ID,
        batch_items: int = 10_000,
        flush_seconds: float = 0.05,
    ) -> None:
        parts = urlparse(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.prefix, self.batch_items, self.flush_seconds = prefix, batch_items, flush_seconds
        self.inbox: queue.Queue = queue.Queue()
        self.stats = Stats()
        self.connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _c, _u, message: self.inbox.put(message)

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("Connexion MQTT refusée : %s", reason_code)
            return
        client.subscribe(self.prefix + TOPIC, qos=1)
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected.clear()
        log.warning("Connexion MQTT perdue (%s) : reconnexion automatique.", reason_code)

    def _take(self) -> list:
        """Messages for one batch: at least one, then whatever comes within the flush time."""
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        messages, deadline = [first], time.monotonic() + self.flush_seconds
        while len(messages) < self.batch_items:
            try:
                messages.append(self.inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return messages

    def process(self, messages: list) -> ingest.Result:
        """Ingest the items of several messages in one transaction, then acknowledge them."""
        items, refused = [], 0
        for message in messages:
            serial = serial_of(message.topic, self.prefix)
            kept, bad = items_of(message.payload, serial) if serial else ([], [{}])
            items += kept
            refused += len(bad)
            for problem in bad:
                log.warning("Message MQTT refusé (%s) : %s", message.topic, problem)
        result = ingest.ingest(items, ingest.Scope(trusted=True)) if items else ingest.Result()
        for message in messages:
            self.client.ack(message.mid, message.qos)
        self.stats.messages += len(messages)
        self.stats.accepted += result.accepted
        self.stats.duplicates += result.duplicates
        self.stats.rejected += len(result.rejected) + refused
        self.stats.last_message_at = time.monotonic()
        return result

    def run(self, stop: threading.Event, idle_seconds: float | None = None) -> Stats:
        """Until `stop` is set (or nothing came for `idle_seconds`)."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                messages = self._take()
                if messages:
                    close_old_connections()
                    try:
                        self.process(messages)
                    except Exception:
                        # Not acknowledged: reconnecting makes the broker deliver them again.
                        log.exception("Lot MQTT non enregistré : il sera redélivré.")
                        time.sleep(1)
                        self.client.reconnect()
                elif idle_seconds and time.monotonic() - self.stats.last_message_at > idle_seconds:
                    break
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats
