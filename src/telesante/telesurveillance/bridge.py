"""`telesante mqtt-bridge`: devices publish to `telesante/v1/devices/{serial}/measurements`
(QoS 1, the JSON of the HTTP batch API); the bridge feeds the same ingest service. What a
message had refused goes back to its device on `telesante/v1/devices/{serial}/rejected` (QoS 1):
`{"rejected": [{"index", "errors", "id"}]}`, the HTTP answer's list, `index` counted within that
message and `id` the item's own when it had one.

Nothing is lost across a broker or bridge restart: the session is persistent (fixed client id,
clean_session false, so the broker keeps the subscription and queues QoS 1 messages while the
bridge is away) and a message is acknowledged only once its batch is committed. A message
delivered twice (acknowledgement lost in a restart) is absorbed by the message ids.
"""

import bisect
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
REPLY_TOPIC = "telesante/v1/devices/{serial}/rejected"
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


def rejection(index: int | None, errors: dict, item=None) -> dict:
    """One entry of a reply: the HTTP answer's `{index, errors}`, with the item's `id`."""
    entry = {"index": index, "errors": errors}
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        entry["id"] = item["id"]
    return entry


def items_of(payload: bytes, serial: str) -> tuple[list, list[dict]]:
    """The message's items for its own device only (the broker's ACL binds a device to its
    topic; an item naming another device is refused here)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return [], [rejection(None, {"__all__": ["JSON illisible."]})]
    items = body.get("measurements") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > ingest.MAX_ITEMS:
        return [], [rejection(None, {"measurements": ["Liste attendue."]})]
    kept, refused = [], []
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("device", serial) == serial:
            kept.append({**item, "device": serial})
        else:
            refused.append(rejection(index, {"device": ["Autre dispositif que le sujet."]}, item))
    return kept, refused


@dataclass
class _Span:
    """Where a message's kept items sit in the batch."""

    start: int
    serial: str
    refused: list[dict]
    # Rank in the message of each kept item, when some were refused before ingest.
    ranks: list[int] | None = None

    def rank(self, position: int) -> int:
        local = position - self.start
        return self.ranks[local] if self.ranks is not None else local


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
        """Ingest the items of several messages in one transaction, tell each device what it
        had refused, then acknowledge the messages."""
        items, refused, spans = [], 0, []
        for message in messages:
            serial = serial_of(message.topic, self.prefix)
            kept, bad = items_of(message.payload, serial) if serial else ([], [{}])
            span = _Span(len(items), serial, bad)
            if bad and kept:
                skipped = {b["index"] for b in bad}
                span.ranks = [i for i in range(len(kept) + len(bad)) if i not in skipped]
            spans.append(span)
            items += kept
            refused += len(bad)
            for problem in bad:
                log.warning("Message MQTT refusé (%s) : %s", message.topic, problem)
        result = ingest.ingest(items, ingest.Scope(trusted=True)) if items else ingest.Result()
        self._reply(spans, items, result.rejected)
        for message in messages:
            self.client.ack(message.mid, message.qos)
        self.stats.messages += len(messages)
        self.stats.accepted += result.accepted
        self.stats.duplicates += result.duplicates
        self.stats.rejected += len(result.rejected) + refused
        self.stats.last_message_at = time.monotonic()
        return result

    def _reply(self, spans: list[_Span], items: list, rejected: list[dict]) -> None:
        """Publish each message's refused items to its device's reply topic."""
        starts = [span.start for span in spans]
        for problem in rejected:
            # The last message starting at or before the item (an empty one holds none).
            span = spans[bisect.bisect_right(starts, problem["index"]) - 1]
            span.refused.append(
                rejection(span.rank(problem["index"]), problem["errors"], items[problem["index"]])
            )
        for span in spans:
            if span.refused and span.serial:
                ordered = sorted(
                    span.refused, key=lambda r: -1 if r["index"] is None else r["index"]
                )
                body = {"rejected": ordered}
                topic = self.prefix + REPLY_TOPIC.format(serial=span.serial)
                self.client.publish(topic, json.dumps(body, ensure_ascii=False), qos=1)

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
