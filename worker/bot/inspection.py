"""Inspection: the Bot Framework Emulator's live view of another conversation.

A person in the Emulator (or on the dev chat page) types `/INSPECT open`; the bot answers with a
command trace `/INSPECT attach <session id>`. Typed in the conversation to watch, on any channel,
that command attaches it: from then on every activity it receives, every activity the bot sends,
updates, deletes and errors, and the user and conversation state after each turn are copied as
trace activities into the inspecting conversation.

Sessions live in the bot's storage under one key (`InspectionState`), so a session opened in a
turn that ran on one worker is found by turns on every other worker. The copies are sent
straight through the worker's Bot Connector client, outside the turn's reply journal: a turn
that runs again (a state conflict, a takeover) is shown again. Inspection is a debugging aid;
it never changes what the watched conversation receives, and a copy that cannot be delivered
detaches the session instead of failing the turn.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from shared.activity import Activity, ActivityTypes, ConversationReference
from worker.bot.state import BotState, ConversationState, UserState
from worker.bot.storage import Storage
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler
from worker.connector.client import ConnectorClient

log = logging.getLogger(__name__)

COMMAND = "/INSPECT"
SESSIONS_PROPERTY = "InspectionSessionByStatus"

_ACTIVITY = "https://www.botframework.com/schemas/activity"
_STATE = "https://www.botframework.com/schemas/botState"
_REFERENCE = "https://www.botframework.com/schemas/conversationReference"
_ERROR = "https://www.botframework.com/schemas/error"
_COMMAND_TYPE = "https://www.botframework.com/schemas/command"


class InspectionState(BotState):
    """Where inspection sessions are kept: one item for the whole bot, in `storage` (give it
    the bot's Redis storage so every worker sees the same sessions)."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage, type(self).__name__)

    def get_storage_key(self, turn_context: TurnContext) -> str:
        return type(self).__name__


class InspectionMiddleware:
    """Copies the traffic and state of attached conversations to their inspection session.

    `InspectionMiddleware(InspectionState(storage), user_state, conversation_state)`; the
    states are optional (without them no state is shown). `credentials` is accepted for
    botbuilder's signature and not used: the copies go out with the worker's own credentials.
    """

    def __init__(
        self,
        inspection_state: InspectionState,
        user_state: UserState | None = None,
        conversation_state: ConversationState | None = None,
        credentials: Any = None,
    ) -> None:
        self.inspection_state = inspection_state
        self.inspection_state_accessor = inspection_state.create_property(SESSIONS_PROPERTY)
        self.user_state = user_state
        self.conversation_state = conversation_state

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        if await self.process_command(context):
            return  # the command was for inspection, not for the bot
        session = await self._session(context)
        if session is None:
            await logic()
            return
        if not await self._copy(context, session, [_trace_of_activity(context.activity)]):
            await logic()
            return
        self._watch_outbound(context)
        try:
            await logic()
        except Exception as error:
            await self._copy_if_attached(context, [_error_trace(str(error))])
            raise
        await self._copy_state(context)

    async def process_command(self, context: TurnContext) -> bool:
        """Handle `/INSPECT open` and `/INSPECT attach <id>` (a mention of the bot before
        them is ignored); True when the activity was one of them."""
        activity = context.activity
        if activity.type != ActivityTypes.MESSAGE or not activity.text:
            return False
        original = activity.text
        TurnContext.remove_recipient_mention(activity)
        words = (activity.text or "").strip().split(" ")
        activity.text = original
        if len(words) == 2 and words[0] == COMMAND and words[1] == "open":
            await self._open(context)
            return True
        if len(words) == 3 and words[0] == COMMAND and words[1] == "attach":
            await self.process_attach_command(context, words[2])
            return True
        return False

    async def process_attach_command(self, context: TurnContext, session_id: str) -> None:
        sessions = await self._sessions(context)
        reference = sessions["opened"].pop(session_id, None)
        if reference is None:
            await context.send_activity(f"Open session with id {session_id} does not exist.")
        else:
            sessions["attached"][_conversation_id(context)] = reference
            await context.send_activity(
                "Attached to session, all traffic is being replicated for inspection."
            )
        await self.inspection_state.save_changes(context)

    async def _open(self, context: TurnContext) -> None:
        sessions = await self._sessions(context)
        session_id = str(uuid.uuid4())
        reference = TurnContext.get_conversation_reference(context.activity)
        sessions["opened"][session_id] = reference.to_dict()
        await context.send_activity(
            _trace("Command", "Command", f"{COMMAND} attach {session_id}", _COMMAND_TYPE)
        )
        await self.inspection_state.save_changes(context)

    async def _sessions(self, context: TurnContext) -> dict[str, dict[str, Any]]:
        """{"opened": {session id: reference}, "attached": {conversation id: reference}}."""
        sessions: dict[str, dict[str, Any]] = await self.inspection_state_accessor.get(
            context, lambda: {"opened": {}, "attached": {}}
        )
        return sessions

    async def _session(self, context: TurnContext) -> ConversationReference | None:
        stored = (await self._sessions(context))["attached"].get(_conversation_id(context))
        return None if stored is None else ConversationReference.from_dict(stored)

    def _watch_outbound(self, context: TurnContext) -> None:
        async def on_send(
            ctx: TurnContext, activities: list[Activity], send: Callable[[], Awaitable[Any]]
        ) -> Any:
            await self._copy_if_attached(
                ctx, [_trace_of_activity(a, sent=True) for a in activities]
            )
            return await send()

        async def on_update(
            ctx: TurnContext, activity: Activity, update: Callable[[], Awaitable[Any]]
        ) -> Any:
            trace = _trace("Updated Message", "MessageUpdate", activity.to_dict(), _ACTIVITY)
            await self._copy_if_attached(ctx, [trace])
            return await update()

        async def on_delete(
            ctx: TurnContext,
            reference: ConversationReference,
            delete: Callable[[], Awaitable[None]],
        ) -> None:
            trace = _trace("Deleted Message", "MessageDelete", reference.to_dict(), _REFERENCE)
            await self._copy_if_attached(ctx, [trace])
            await delete()

        context.on_send_activities(on_send)
        context.on_update_activity(on_update)
        context.on_delete_activity(on_delete)

    async def _copy_state(self, context: TurnContext) -> None:
        shown: dict[str, Any] = {}
        for name, state in (
            ("user_state", self.user_state),
            ("conversation_state", self.conversation_state),
        ):
            if state is not None:
                await state.load(context)
                shown[name] = for_display(
                    {k: v for k, v in state.get(context).items() if k != "eTag"}
                )
        await self._copy_if_attached(context, [_trace("Bot State", "BotState", shown, _STATE)])

    async def _copy_if_attached(self, context: TurnContext, traces: list[Activity]) -> None:
        session = await self._session(context)
        if session is not None:
            await self._copy(context, session, traces)

    async def _copy(
        self, context: TurnContext, session: ConversationReference, traces: list[Activity]
    ) -> bool:
        """Send the traces to the inspecting conversation; on failure detach it (logged) and
        return False. The watched turn goes on either way."""
        connector = getattr(context.adapter, "connector", None)
        if not isinstance(connector, ConnectorClient):
            log.warning("inspection needs the worker's connector; this adapter has none")
            return False
        assert session.service_url and session.conversation and session.conversation.id
        try:
            for trace in traces:
                body = TurnContext.apply_conversation_reference(trace, session).to_dict()
                body.pop("serviceUrl", None)
                await connector.send_to_conversation(
                    session.service_url, session.conversation.id, body
                )
        except Exception as error:  # a closed Emulator must not break the watched bot
            log.warning("inspection session unreachable, detaching it: %s", error)
            await self._detach(context)
            return False
        return True

    async def _detach(self, context: TurnContext) -> None:
        (await self._sessions(context))["attached"].pop(_conversation_id(context), None)
        await self.inspection_state.save_changes(context)


def for_display(value: Any) -> Any:
    """State as JSON for a person to read: objects as their fields, enums as their values,
    times in ISO 8601; nothing here is read back."""
    if isinstance(value, dict):
        return {str(k): for_display(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [for_display(v) for v in value]
    if isinstance(value, enum.Enum):
        return for_display(value.value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: for_display(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "__dict__"):
        return {k: for_display(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _conversation_id(context: TurnContext) -> str:
    conversation = context.activity.conversation
    return (conversation.id if conversation else None) or ""


def _trace(name: str, label: str, value: Any, value_type: str) -> Activity:
    return Activity(
        type=ActivityTypes.TRACE,
        timestamp=datetime.datetime.now(datetime.UTC),
        name=name,
        label=label,
        value=value,
        value_type=value_type,
    )


def _trace_of_activity(activity: Activity, *, sent: bool = False) -> Activity:
    if sent:
        return _trace("Sent Activity", "SentActivity", activity.to_dict(), _ACTIVITY)
    return _trace("Received Activity", "ReceivedActivity", activity.to_dict(), _ACTIVITY)


def _error_trace(message: str) -> Activity:
    return _trace("Turn Error", "TurnError", message, _ERROR)
