"""STUN/TURN servers for the browsers: time-limited TURN credentials from coturn's REST secret
(`use-auth-secret`: username "<expiry>:<name>", password base64(HMAC-SHA1(secret, username)))."""

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(name: str, now: float | None = None) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + settings.TELESANTE_TURN_TTL)
    username = f"{expiry}:{name}"
    digest = hmac.new(
        settings.TELESANTE_TURN_SECRET.encode(), username.encode(), hashlib.sha1
    ).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(name: str) -> list[dict]:
    servers: list[dict] = []
    if settings.TELESANTE_STUN_URLS:
        servers.append({"urls": settings.TELESANTE_STUN_URLS})
    if settings.TELESANTE_TURN_URLS and settings.TELESANTE_TURN_SECRET:
        username, credential = turn_credentials(name)
        servers.append(
            {
                "urls": settings.TELESANTE_TURN_URLS,
                "username": username,
                "credential": credential,
            }
        )
    return servers
