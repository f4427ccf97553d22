"""BotAdapter: botbuilder's base class of adapters, which bots' own test adapters subclass.

turnstream's adapters (`ConnectorAdapter` in a worker, `TestAdapter` in tests) are its
subclasses, so `turn_context.adapter` is a `BotAdapter` as in botbuilder. A subclass delivers
what a turn sends (`send_activities`, `update_activity`, `delete_activity`); the base class
keeps the middleware (`use`), runs a turn's handler behind it (`run_pipeline`, with
`on_turn_error`) and continues a conversation in process (`continue_conversation`).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Self

from shared.protocol.schedule import ScheduledTurn
from shared.schema.activity import Activity, ActivityTypes, ConversationReference, ResourceResponse
from shared.schema.constants import ActivityEventNames
from worker.bot.middleware import Middleware, MiddlewareSet
from worker.bot.turn_context import TurnContext
from worker.bot.types import OnTurnError

TurnCallback = Callable[[TurnContext], Awaitable[Any]]
"""What `run_pipeline` and `continue_conversation` run at the end of the middleware."""


class BotAdapter(ABC):
    """Runs turns behind middleware and delivers what they send; subclass it for an adapter of
    your own (a test double, a console), as with botbuilder's `BotAdapter`."""

    BOT_IDENTITY_KEY = "BotIdentity"
    BOT_OAUTH_SCOPE_KEY = "botbuilder.core.BotAdapter.OAuthScope"
    BOT_CONNECTOR_CLIENT_KEY = "ConnectorClient"
    BOT_CALLBACK_HANDLER_KEY = "BotCallbackHandler"
    """`turn_state` keys botbuilder defines; turnstream's adapters set none of them."""

    def __init__(self, on_turn_error: OnTurnError | None = None) -> None:
        self._middleware = MiddlewareSet()
        self.on_turn_error: OnTurnError | None = on_turn_error
        """Called with the context and the exception when the turn's handler raises; None: the
        exception propagates."""

    @abstractmethod
    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        """Deliver `activities` (already addressed by the turn context); one response each."""

    @abstractmethod
    async def update_activity(
        self, context: TurnContext, activity: Activity
    ) -> ResourceResponse | None:
        """Replace the activity `activity.id` names with `activity`."""

    @abstractmethod
    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        """Delete the activity `reference.activity_id` names."""

    def use(self, *middleware: Middleware) -> Self:
        """Add middleware, run in the order added around every turn."""
        self._middleware.use(*middleware)
        return self

    async def run_pipeline(self, context: TurnContext, callback: TurnCallback | None = None) -> Any:
        """Run the middleware and then `callback` for `context`; what the callback returned.
        An exception goes to `on_turn_error` when one is set, else to the caller."""
        if context is None:
            raise TypeError("run_pipeline needs a turn context")
        if context.activity is None:
            return await callback(context) if callback is not None else None
        try:
            return await self._middleware.receive_activity_with_status(context, callback)
        except Exception as error:
            if self.on_turn_error is None:
                raise
            await self.on_turn_error(context, error)
            return None

    async def continue_conversation(
        self,
        reference: ConversationReference | dict[str, Any],
        callback: TurnCallback,
        bot_id: str | None = None,
        claims_identity: Any = None,
        audience: str | None = None,
    ) -> Any:
        """Run `callback` now, in this process, on a `ContinueConversation` event addressed from
        the reference's user to its bot, through the middleware. `bot_id`, `claims_identity`
        and `audience` are accepted for botbuilder's signature; turnstream's credentials come
        from its settings. In a worker, `ConnectorAdapter` queues the turn instead."""
        if isinstance(reference, dict):
            reference = ConversationReference.from_dict(reference)
        context = TurnContext(self, continuation_of(reference))
        return await self.run_pipeline(context, callback)

    async def create_conversation(self, *args: Any, **kwargs: Any) -> Any:
        """Start a conversation: each adapter has its own arguments (`ConnectorAdapter`'s are
        `channel_id, service_url, parameters, callback`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot create conversations")

    async def schedule_turn(
        self,
        reference: ConversationReference | dict[str, Any],
        callback_or_event: TurnCallback | str,
        *,
        at: datetime | float | None = None,
        after: timedelta | float | None = None,
        key: str | None = None,
        value: Any = None,
    ) -> str:
        """Schedule a turn for later (docs/scheduled-turns.md): a worker's `ConnectorAdapter`
        keeps it in Redis; this adapter cannot."""
        raise NotImplementedError(f"{type(self).__name__} cannot schedule turns")

    async def cancel_scheduled_turn(
        self,
        scheduled_id: str | None = None,
        *,
        reference: ConversationReference | dict[str, Any] | None = None,
        key: str | None = None,
    ) -> bool:
        """Cancel a scheduled turn by id, or by reference and key (`ConnectorAdapter`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot schedule turns")

    async def scheduled_turns(
        self, reference: ConversationReference | dict[str, Any]
    ) -> list[ScheduledTurn]:
        """The turns waiting in a conversation (`ConnectorAdapter`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot schedule turns")


def continuation_of(reference: ConversationReference) -> Activity:
    """The event a conversation is continued with, as botbuilder makes it (not checked: a
    reference queued for a worker is, by `shared.protocol.proactive`)."""
    return Activity(
        type=ActivityTypes.EVENT,
        name=ActivityEventNames.CONTINUE_CONVERSATION,
        id=str(uuid.uuid4()),
        channel_id=reference.channel_id,
        service_url=reference.service_url,
        conversation=reference.conversation,
        recipient=reference.bot,
        from_property=reference.user,
        locale=reference.locale,
        relates_to=reference,
    )
