from django import template

register = template.Library()


@register.simple_tag
def field_value(values, field: dict):
    """The submitted value of a filière form field (a list for multiple choices)."""
    key = f"f_{field['name']}"
    if field["type"] == "multichoice":
        return values.getlist(key) if hasattr(values, "getlist") else []
    return values.get(key, "") if values else ""


@register.simple_tag
def field_errors(errors: dict, name: str) -> list[str]:
    return errors.get(name, []) if errors else []
