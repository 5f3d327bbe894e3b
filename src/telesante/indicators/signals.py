"""Mark the month of a saved or deleted act dirty: the roll-up is rebuilt before use."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from telesante.acts.models import Act
from telesante.indicators.models import DirtyMonth
from telesante.indicators.rollup import month_of


@receiver([post_save, post_delete], sender=Act, dispatch_uid="indicators_dirty_month")
def mark_dirty(sender, instance: Act, **kwargs) -> None:
    if instance.requested_at is not None:
        # update_or_create locks the row: it waits for a rebuild in progress (rollup.py).
        DirtyMonth.objects.update_or_create(month=month_of(instance.requested_at))
