"""Failed logins: per account, a growing delay between tries, then a lock with its time left;
per network address only a much higher limit, so that a ward behind its hospital's one shared
address is never locked out by a few colleagues' typos.

The counts are allauth's own rate-limit records (``ACCOUNT_RATE_LIMITS["login_failed"]``, kept
in the cache: Redis in production, shared by every server process): allauth records each
failure, per address and per key (the account's e-mail at the password step, the user at the
code step), and drops it again when the login succeeds. This module only reads them, before
allauth counts a new try: a refused try is not counted, and its password is never checked.
"""

import datetime
import math
import time

from allauth.core.internal import ratelimit
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

APP, ACTION = "allauth.account", "login_failed"
# From the third failure on, the account waits 5 s, then 10 s, 20 s… before its next try: a
# typing slip costs nothing, guessing gets slow long before the lock.
DELAY_AFTER = 3
DELAY_SECONDS = 5


def delay_for(failures: int) -> int:
    """Seconds an account waits after its n-th recent failure."""
    return 0 if failures < DELAY_AFTER else DELAY_SECONDS * 2 ** (failures - DELAY_AFTER)


def _recent(request: HttpRequest, rate: ratelimit.Rate, key: str, now: float) -> list[float]:
    """Failure times still inside the rate's window, newest first (allauth's own order)."""
    cache_key = ratelimit.get_cache_key(request, app=APP, action=ACTION, rate=rate, key=key)
    return [t for t in cache.get(cache_key, []) if t > now - rate.duration]


def _until(seconds: float) -> str:
    moment = timezone.localtime() + datetime.timedelta(seconds=seconds)
    return moment.strftime("%H:%M")


def refusal(request: HttpRequest, key: str) -> ValidationError | None:
    """Why a login for ``key`` may not be tried now, with the time left; None when it may."""
    now = time.time()
    for rate in ratelimit.get_rates(app=APP, action=ACTION):
        recent = _recent(request, rate, key, now)
        if len(recent) < rate.amount:
            continue
        minutes = math.ceil((recent[-1] + rate.duration - now) / 60)
        if rate.per == "ip":
            text = ngettext(
                "Trop d'échecs de connexion depuis ce réseau. Réessayez dans %(n)d minute "
                "(à %(at)s).",
                "Trop d'échecs de connexion depuis ce réseau. Réessayez dans %(n)d minutes "
                "(à %(at)s).",
                minutes,
            )
        else:
            text = ngettext(
                "Compte verrouillé après %(failures)d échecs de connexion. Réessayez dans "
                "%(n)d minute (à %(at)s), ou demandez de l'aide à votre administrateur.",
                "Compte verrouillé après %(failures)d échecs de connexion. Réessayez dans "
                "%(n)d minutes (à %(at)s), ou demandez de l'aide à votre administrateur.",
                minutes,
            )
        params = {"n": minutes, "at": _until(minutes * 60), "failures": rate.amount}
        return ValidationError(text % params, code="locked")
    for rate in ratelimit.get_rates(app=APP, action=ACTION):
        if rate.per != "key":
            continue
        recent = _recent(request, rate, key, now)
        wait = math.ceil(recent[0] + delay_for(len(recent)) - now) if recent else 0
        if wait > 0:
            text = ngettext(
                "Plusieurs échecs de connexion pour ce compte : patientez %(n)d seconde "
                "avant de réessayer.",
                "Plusieurs échecs de connexion pour ce compte : patientez %(n)d secondes "
                "avant de réessayer.",
                wait,
            )
            return ValidationError(text % {"n": wait}, code="delayed")
    return None
