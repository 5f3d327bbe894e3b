from django import template

from telesante.structures import places

register = template.Library()


@register.filter
def birthplace(code: str) -> str:
    """« Laval (53130) »: the birthplace's name, with the INSEE code the record keeps."""
    return places.label(code)
