from django import template

from telesante.outbox import services

register = template.Library()


@register.inclusion_tag("outbox/act_outbox.html")
def act_outbox(act) -> dict:
    """The act's report on its way: each line's state, and why some recipients get nothing."""
    return services.for_act(act)
