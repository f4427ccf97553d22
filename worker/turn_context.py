"""TurnContext: what a bot sees of one turn — the inbound activity and a way to answer it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from shared.activity import Activity, ActivityTypes, InputHints, ResourceResponse


class ActivitySender(Protocol):
    """The adapter side of a turn: delivers activities the bot sends."""

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]: ...


class TurnContext:
    """One turn: the inbound `activity`, `send_activity` to answer, `turn_state` for this turn only.

    A new context is made for every turn, so per-turn data never leaks between the many turns a
    worker runs at once.
    """

    def __init__(self, adapter: ActivitySender, activity: Activity) -> None:
        self.adapter = adapter
        self.activity = activity
        self.turn_state: dict[str, Any] = {}
        self._responded = False

    @property
    def responded(self) -> bool:
        """True once the bot sent a non-trace activity in this turn."""
        return self._responded

    async def send_activity(
        self,
        activity_or_text: Activity | str,
        speak: str | None = None,
        input_hint: str | None = None,
    ) -> ResourceResponse | None:
        """Send one activity (or a text message) as a reply to the inbound one."""
        if isinstance(activity_or_text, str):
            activity = Activity(
                type=ActivityTypes.MESSAGE,
                text=activity_or_text,
                speak=speak,
                input_hint=input_hint or InputHints.ACCEPTING_INPUT,
            )
        else:
            activity = activity_or_text
        responses = await self.send_activities([activity])
        return responses[0] if responses else None

    async def send_activities(self, activities: Sequence[Activity]) -> list[ResourceResponse]:
        """Send several activities in order; returns one ResourceResponse per activity."""
        outgoing = [self._address(activity) for activity in activities]
        responses = await self.adapter.send_activities(self, outgoing)
        if any(a.type != ActivityTypes.TRACE for a in outgoing):
            self._responded = True
        return responses

    def _address(self, activity: Activity) -> Activity:
        """A copy addressed back into this conversation: from the bot, to the user, as a reply."""
        inbound = self.activity
        addressed = dataclasses.replace(
            activity,
            type=activity.type or ActivityTypes.MESSAGE,
            from_property=_copy(inbound.recipient),
            recipient=_copy(inbound.from_property),
            conversation=dataclasses.replace(inbound.conversation)
            if inbound.conversation
            else None,
            channel_id=inbound.channel_id,
            reply_to_id=activity.reply_to_id or inbound.id,
            locale=activity.locale or inbound.locale,
            service_url=None,
            id=None,
        )
        if addressed.type == ActivityTypes.MESSAGE and addressed.input_hint is None:
            addressed.input_hint = InputHints.ACCEPTING_INPUT
        return addressed


def _copy(value: Any) -> Any:
    return dataclasses.replace(value) if value is not None else None
