from channels.db import database_sync_to_async

from telesante.core import policy
from telesante.core.ws import GuardedJsonConsumer
from telesante.telesurveillance.alerts import board_group


class BoardConsumer(GuardedJsonConsumer):
    """Live alerts of one opérateur team, for its members only."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        team = self.scope["url_route"]["kwargs"]["team_id"]
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        member = await database_sync_to_async(
            lambda: policy.may_handle_patients(user) and team in policy.member_team_ids(user)
        )()
        if not member:
            await self.close(code=4403)
            return
        self.group = board_group(team)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def alert(self, event: dict) -> None:
        await self.send_json(event)
