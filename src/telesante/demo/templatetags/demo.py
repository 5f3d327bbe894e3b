"""Demo mode only: the current TOTP code of a seeded demo account, shown at login."""

import time

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag(takes_context=True)
def demo_totp(context) -> dict | None:
    """{"code", "seconds_left"} for an `is_demo` account at the code step, else None.

    The user comes from allauth's login stage (set on the request by the authenticate view):
    nobody is logged in yet at that step.
    """
    if not settings.DEMO:
        return None
    stage = getattr(context.get("request"), "_login_stage", None)
    user = getattr(getattr(stage, "login", None), "user", None)
    if user is None or not getattr(user, "is_demo", False):
        return None
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return None
    secret = decrypt(authenticator.data["secret"])
    now = int(time.time())
    period = app_settings.TOTP_PERIOD
    return {
        "code": format_hotp_value(hotp_value(secret, now // period)),
        "seconds_left": period - now % period,
    }
