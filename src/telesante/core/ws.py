"""What every WebSocket of the platform does with what a client sends: frames are bounded in
size and depth, texts must be valid Unicode, and each connection has a message budget. A bad
frame gets an error frame back and the connection stays open."""

import json
import time

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

# A session description with many candidates is a few kilobytes; chat bodies are shorter.
MAX_FRAME_CHARS = 64 * 1024
MAX_DEPTH = 16  # the deepest message a client sends is 4 levels (signal > data > sdp)

# Protocol errors for the client's script (logged, never shown), in the platform's language
# like the consumers' other protocol messages.
UNREADABLE = "Message illisible : JSON attendu."
TOO_BIG = "Message trop long."
TOO_DEEP = "Message trop imbriqué."
NOT_UNICODE = "Texte invalide : caractère Unicode isolé."
TOO_MANY = "Trop de messages : patientez un instant."
UNKNOWN = "Message inconnu ou non autorisé."


class Budget:
    """A token bucket: `burst` messages at once, then `rate` a second."""

    def __init__(self, burst: float, rate: float):
        self.burst, self.rate = burst, rate
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _problem(value, depth: int = 0) -> str:
    """Why a decoded message cannot be handled (too deep, a lone surrogate), or ""."""
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return NOT_UNICODE
        return ""
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return ""
    for child in children:
        if problem := _problem(child, depth + 1):
            return problem
    return ""


def parse_frame(text: str | None) -> tuple[dict | None, str]:
    """The frame as a JSON object, or None and the reason it is refused."""
    if text is None:
        return None, UNREADABLE
    if len(text) > MAX_FRAME_CHARS:
        return None, TOO_BIG
    try:
        content = json.loads(text)
    except RecursionError:  # "[[[[…": the decoder's own depth limit
        return None, TOO_DEEP
    except ValueError:
        return None, UNREADABLE
    if not isinstance(content, dict):
        return None, UNREADABLE
    problem = _problem(content)
    return (None, problem) if problem else (content, "")


class GuardedJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON consumer whose `receive_json` only sees well-formed, bounded objects, within the
    connection's budget (`frames`: every message counted)."""

    FRAME_BURST, FRAME_RATE = 400, 100

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "frames"):
            self.frames = Budget(self.FRAME_BURST, self.FRAME_RATE)
        if not self.frames.take():
            await self.refuse(TOO_MANY)
            return
        content, problem = parse_frame(text_data)
        if content is None:
            await self.refuse(problem)
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs) -> None:
        await self.refuse(UNKNOWN)  # the consumers that only push accept no message

    async def refuse(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})


class NoRouteConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refused at the handshake (HTTP 403), not a server error."""

    async def connect(self) -> None:
        await self.close(code=4404)
