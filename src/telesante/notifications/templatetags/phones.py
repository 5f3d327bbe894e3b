"""Phone numbers as a French reader reads them: stored in E.164 (+33…), shown « 06 12 34 56 78 »."""

import re

from django import template

from telesante.notifications.delivery import FRENCH_E164

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A French number in pairs after its leading 0; any other number as stored."""
    match = FRENCH_E164.fullmatch(value or "")
    if match is None:
        return value
    national = "0" + match.group(1)
    return " ".join(re.findall("..", national))
