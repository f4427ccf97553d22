"""The adapter: turns an inbound activity into a TurnContext, runs the bot, delivers its replies."""

from __future__ import annotations

import logging
from typing import Any

from shared.activity import Activity, ActivityTypes, ResourceResponse
from worker.connector import ConnectorClient
from worker.turn_context import TurnContext
from worker.types import Bot

log = logging.getLogger(__name__)


class ConnectorAdapter:
    """Runs one turn of a bot and sends what it says through the Bot Connector REST API."""

    def __init__(self, connector: ConnectorClient) -> None:
        self._connector = connector

    async def process_activity(self, activity: dict[str, Any], bot: Bot) -> None:
        """Run `bot.on_turn` for one inbound activity (wire-format dict)."""
        context = TurnContext(self, Activity.from_dict(activity))
        await bot.on_turn(context)

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        inbound = context.activity
        service_url = inbound.service_url
        conversation_id = inbound.conversation.id if inbound.conversation else None
        if not service_url or not conversation_id:
            raise ValueError(
                "the inbound activity has no serviceUrl or conversation id to reply to"
            )
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.TRACE and inbound.channel_id != "emulator":
                responses.append(ResourceResponse())  # traces are for the emulator only
                continue
            body = activity.to_dict()
            if activity.reply_to_id:
                response = await self._connector.reply_to_activity(
                    service_url, conversation_id, activity.reply_to_id, body
                )
            else:
                response = await self._connector.send_to_conversation(
                    service_url, conversation_id, body
                )
            responses.append(response)
        return responses
