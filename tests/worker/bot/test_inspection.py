"""Inspection middleware in process: open a session in one conversation, attach another, and
see the watched conversation's traffic and state copied to the first."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from worker.bot import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
    UserState,
)
from worker.bot.inspection import InspectionMiddleware, InspectionState, for_display
from worker.bot.testing import TestAdapter


class Mood(enum.Enum):
    GLAD = "glad"


def _reference(conversation: str, channel: str = "test") -> ConversationReference:
    return ConversationReference(
        channel_id=channel,
        service_url=f"https://{conversation}.example",
        user=ChannelAccount(id="user1", name="User1"),
        bot=ChannelAccount(id="bot", name="Bot"),
        conversation=ConversationAccount(id=conversation),
    )


class Watched:
    def __init__(self, storage: MemoryStorage) -> None:
        self.user_state = UserState(storage)
        self.conversation_state = ConversationState(storage)
        self.middleware = InspectionMiddleware(
            InspectionState(storage), self.user_state, self.conversation_state
        )

    async def on_turn(self, context: TurnContext) -> None:
        if context.activity.text == "fail":
            raise RuntimeError("the bot broke")
        await context.send_activity(MessageFactory.text(f"echo: {context.activity.text}"))
        profile = await self.user_state.create_property("profile").get(context, dict)
        profile["mood"] = Mood.GLAD
        count = self.conversation_state.create_property("count")
        await count.set(context, (await count.get(context, 0)) + 1)
        await self.user_state.save_changes(context)
        await self.conversation_state.save_changes(context)


async def _attach(storage: MemoryStorage, watched: Watched) -> TestAdapter:
    """Open a session from the emulator's conversation and attach the watched one to it."""
    emulator = TestAdapter(Watched(storage).on_turn, _reference("emulator-convo", "emulator")).use(
        watched.middleware
    )
    await emulator.receive_activity("/INSPECT open")
    command = emulator.get_next_activity()
    assert command is not None and command.type == ActivityTypes.TRACE
    assert command.value_type == "https://www.botframework.com/schemas/command"
    assert command.value.startswith("/INSPECT attach ")

    adapter = TestAdapter(watched.on_turn, _reference("watched-convo")).use(watched.middleware)
    await adapter.receive_activity(command.value)
    confirmation = adapter.get_next_activity()
    assert confirmation is not None
    assert (
        confirmation.text == "Attached to session, all traffic is being replicated for inspection."
    )
    assert adapter.get_next_activity() is None  # the command itself is not copied
    return adapter


def _by_conversation(adapter: TestAdapter) -> tuple[list[Activity], list[Activity]]:
    sent = list(adapter.activity_buffer)
    adapter.activity_buffer.clear()
    inspected = [a for a in sent if a.conversation and a.conversation.id == "emulator-convo"]
    watched = [a for a in sent if a.conversation and a.conversation.id == "watched-convo"]
    assert len(inspected) + len(watched) == len(sent)
    return inspected, watched


async def test_without_a_session_the_bot_runs_untouched() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    adapter = TestAdapter(watched.on_turn).use(watched.middleware)
    await adapter.test("hello", "echo: hello")
    assert adapter.get_next_activity() is None


async def test_an_attached_conversation_is_copied_to_the_session() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    adapter = await _attach(storage, watched)

    await adapter.receive_activity("hi")
    inspected, replies = _by_conversation(adapter)

    assert [r.text for r in replies] == ["echo: hi"]
    assert [(t.type, t.label) for t in inspected] == [
        (ActivityTypes.TRACE, "ReceivedActivity"),
        (ActivityTypes.TRACE, "SentActivity"),
        (ActivityTypes.TRACE, "BotState"),
    ]
    received, sent, state = inspected
    assert received.value["text"] == "hi"
    assert sent.value["text"] == "echo: hi"
    assert state.value["user_state"] == {"profile": {"mood": "glad"}}
    assert state.value["conversation_state"] == {"count": 1}
    assert all(t.recipient and t.recipient.id == "user1" for t in inspected)
    assert all(t.service_url is None for t in inspected)  # addressed by the connector call


async def test_an_error_is_copied_and_still_reaches_the_test() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    adapter = await _attach(storage, watched)

    with pytest.raises(RuntimeError, match="the bot broke"):
        await adapter.receive_activity("fail")
    inspected, replies = _by_conversation(adapter)
    assert replies == []
    assert [t.label for t in inspected] == ["ReceivedActivity", "TurnError"]
    assert inspected[1].value == "the bot broke"


async def test_attaching_an_unknown_session_says_so() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    adapter = TestAdapter(watched.on_turn).use(watched.middleware)
    await adapter.test("/INSPECT attach nope", "Open session with id nope does not exist.")
    await adapter.test("hello", "echo: hello")  # nothing attached: no copies
    assert adapter.get_next_activity() is None


async def test_a_session_is_attached_once() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    await _attach(storage, watched)
    sessions: dict[str, Any] = (await storage.read(["InspectionState"]))["InspectionState"]
    assert sessions["InspectionSessionByStatus"]["opened"] == {}
    assert list(sessions["InspectionSessionByStatus"]["attached"]) == ["watched-convo"]


async def test_an_unreachable_session_is_detached_and_the_bot_goes_on() -> None:
    storage = MemoryStorage()
    watched = Watched(storage)
    adapter = await _attach(storage, watched)
    sink = adapter.connector

    async def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the emulator is gone")

    copies = sink.send_to_conversation
    sink.send_to_conversation = unreachable  # type: ignore[method-assign]
    await adapter.receive_activity("hi")
    sink.send_to_conversation = copies  # type: ignore[method-assign]
    _, replies = _by_conversation(adapter)
    assert [r.text for r in replies] == ["echo: hi"]
    sessions = (await storage.read(["InspectionState"]))["InspectionState"]
    assert sessions["InspectionSessionByStatus"]["attached"] == {}


def test_state_is_shown_as_plain_json() -> None:
    class Profile:
        def __init__(self) -> None:
            self.name = "Ada"
            self._secret = "hidden"

    assert for_display({"p": Profile(), "m": Mood.GLAD, "t": (1, 2), 3: {4}}) == {
        "p": {"name": "Ada"},
        "m": "glad",
        "t": [1, 2],
        "3": [4],
    }
