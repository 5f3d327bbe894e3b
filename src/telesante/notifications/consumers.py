from channels.db import database_sync_to_async

from telesante.core.ws import GuardedJsonConsumer
from telesante.notifications.services import group_name, unread_count


class NotificationConsumer(GuardedJsonConsumer):
    """Pushes the unread count to a logged-in professional's pages, and tells them when their
    work list changed otherwise."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = group_name(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"unread": await database_sync_to_async(unread_count)(user)})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def unread(self, event: dict) -> None:
        await self.send_json({"unread": event["count"]})

    async def worklist(self, event: dict) -> None:
        await self.send_json({"worklist": True})
