from django import template

register = template.Library()


@register.simple_tag
def field_value(values, field: dict):
    """The submitted value of a filière form field (a list for multiple choices)."""
    key = f"f_{field['name']}"
    if field["type"] == "multichoice":
        if hasattr(values, "getlist"):
            return values.getlist(key)
        return (values or {}).get(key) or []  # a correction starts from the stored list
    return values.get(key, "") if values else ""


@register.simple_tag
def field_errors(errors: dict, name: str) -> list[str]:
    return errors.get(name, []) if errors else []
