"""Numbers as a French user types them: « 3,5 » is 3.5 (never 35), « 1 200 » is 1200.

One parser for every form and API field that receives a number as text, with the bounds of the
field and a French message for what is refused; `NumberField` is the Django form field and
`NumberInput` its text input (`inputmode`, so that phones show the digits, and the unit shown
beside). A browser's `type=number` is not used: with a French locale Chromium refuses or
drops « 3,5 » before the server sees it.
"""

import math
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Spaces a French number may carry between thousands (plain, no-break, narrow no-break).
_GROUPING = re.compile(r"[ \u00a0\u202f]")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def fmt(value: float | int) -> str:
    """A number written the French way (« 3,5 »), for messages and pre-filled inputs."""
    return f"{value:g}".replace(".", ",")


def parse(
    raw: object,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
) -> float | int | None:
    """The number in `raw` (text or a JSON number), None when empty; ValueError with a French
    message when it is not a number, not whole though `integer`, or outside [low, high]."""
    if raw is None or isinstance(raw, bool):
        if raw is None:
            return None
        raise ValueError(_("Saisissez un nombre."))
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = _GROUPING.sub("", str(raw)).replace("\u2212", "-")  # the minus sign of Word
        if not text:
            return None
        if not _NUMBER.fullmatch(text):
            raise ValueError(_("Saisissez un nombre (par exemple 3,5)."))
        value = float(text.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(_("Saisissez un nombre."))
    if integer and not value.is_integer():
        raise ValueError(_("Saisissez un nombre entier."))
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(
            _("Valeur attendue entre %(min)s et %(max)s%(unit)s.")
            % {"min": fmt(low), "max": fmt(high), "unit": suffix}
        )
    if low is not None and value < low:
        raise ValueError(
            _("Valeur minimale : %(min)s%(unit)s.") % {"min": fmt(low), "unit": suffix}
        )
    if high is not None and value > high:
        raise ValueError(
            _("Valeur maximale : %(max)s%(unit)s.") % {"max": fmt(high), "unit": suffix}
        )
    return int(value) if integer else value


def posted(
    data,
    name: str,
    *,
    default: float | int | None = None,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
) -> float | int | None:
    """`parse` of a posted field, `default` when left empty; a ValidationError keyed by the
    field's name otherwise, so that a page shows it beside the field and saves nothing."""
    try:
        value = parse(data.get(name), integer=integer, low=low, high=high, unit=unit)
    except ValueError as exc:
        raise ValidationError({name: [str(exc)]}) from exc
    return default if value is None else value


class NumberInput(forms.TextInput):
    """A text input for numbers (phones show their number pad) with the unit beside it."""

    def __init__(self, unit: str = "", integer: bool = False, attrs: dict | None = None) -> None:
        mode = "numeric" if integer else "decimal"
        super().__init__({"inputmode": mode, "autocomplete": "off", **(attrs or {})})
        self.unit = unit

    def format_value(self, value):
        if isinstance(value, float):
            return fmt(value)
        return super().format_value(value)

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html(
            '<span class="with-unit">{}<span class="unit" data-unit-of="{}">{}</span></span>',
            html,
            name,
            self.unit,
        )


class NumberField(forms.Field):
    """A number in French (decimal comma), within [low, high], with its unit."""

    default_error_messages = {"invalid": gettext_lazy("Saisissez un nombre.")}

    def __init__(
        self,
        *,
        unit: str = "",
        integer: bool = False,
        low: float | None = None,
        high: float | None = None,
        **kwargs,
    ) -> None:
        self.unit, self.integer, self.low, self.high = unit, integer, low, high
        kwargs.setdefault("widget", NumberInput(unit, integer))
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return parse(value, integer=self.integer, low=self.low, high=self.high, unit=self.unit)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc
