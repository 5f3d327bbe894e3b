"""In-app notifications (live counter over the WebSocket) and emails, sent after commit."""

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from telesante.notifications.models import Notification
from telesante.notifications.tasks import send_email


def group_name(user_id: int) -> str:
    return f"notifications.{user_id}"


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def _push_counts(user_ids: list[int]) -> None:
    layer = get_channel_layer()
    counts = dict.fromkeys(user_ids, 0)
    for uid in Notification.objects.filter(user_id__in=user_ids, read_at__isnull=True).values_list(
        "user_id", flat=True
    ):
        counts[uid] += 1
    for uid, count in counts.items():
        async_to_sync(layer.group_send)(group_name(uid), {"type": "unread", "count": count})


def notify(users: Iterable, text: str, *, act=None, url: str = "", email: bool = True) -> int:
    """Notify each user once; network work (channel layer, email queue) waits for the commit."""
    recipients = {u.pk: u for u in users if u is not None and u.is_active}
    Notification.objects.bulk_create(
        Notification(user_id=uid, act=act, text=text[:300], url=url) for uid in recipients
    )
    ids = list(recipients)
    transaction.on_commit(lambda: _push_counts(ids))
    emails = [u.email for u in recipients.values()]
    if email and emails:
        subject, body = email_text(url)
        transaction.on_commit(lambda: send_email.enqueue(emails, subject, body))
    return len(ids)


def email_text(url: str) -> tuple[str, str]:
    """The e-mail that goes with a notification: plain e-mail is not a secure channel, so it says
    only that something waits on the platform, with the link; no patient name, reason nor result
    (the notification's text stays on the platform; documents travel by MSSanté)."""
    link = settings.TELESANTE_BASE_URL + (url or "/")
    return (
        "Télésanté — un nouvel élément vous attend",
        "Un nouvel élément vous attend sur Télésanté.\n\n"
        f"Connectez-vous pour le consulter : {link}\n",
    )


def mark_read(user, pk: int | None = None, act=None) -> None:
    """Mark the user's notifications read: all, one, or those about an act (opening the act's
    page reads them; the work list counts an answer as new until then)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    if act is not None:
        unread = unread.filter(act=act)
    if unread.update(read_at=timezone.now()) or act is None:
        transaction.on_commit(lambda: _push_counts([user.pk]))
