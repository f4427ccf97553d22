"""TurnContext semantics with a recording adapter (pure logic)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from shared.schema.activity import (
    Activity,
    ConversationParameters,
    ConversationReference,
    ConversationResourceResponse,
    ResourceResponse,
)
from tests.support.activities import message
from worker.bot.bot_adapter import BotAdapter
from worker.bot.turn_context import TurnContext


class RecordingSender(BotAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Activity] = []
        self.updated: list[Activity] = []
        self.deleted: list[ConversationReference] = []
        self.continued: list[tuple[object, object]] = []
        self.created: list[ConversationParameters] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        self.sent.extend(activities)
        return [ResourceResponse(id=f"r{len(self.sent)}") for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        self.updated.append(activity)
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        self.deleted.append(reference)

    async def continue_conversation(
        self,
        reference: ConversationReference | dict[str, Any],
        callback: Callable[[TurnContext], Awaitable[Any]],
        bot_id: str | None = None,
        claims_identity: Any = None,
        audience: str | None = None,
    ) -> str:
        self.continued.append((reference, callback))
        return f"entry-{len(self.continued)}"

    async def create_conversation(
        self,
        channel_id: str,
        service_url: str,
        parameters: ConversationParameters,
        callback: Callable[[TurnContext], Awaitable[None]] | None = None,
    ) -> ConversationResourceResponse:
        self.created.append(parameters)
        return ConversationResourceResponse(id=f"new-{len(self.created)}")


def context_for(activity: dict[str, object] | None = None) -> tuple[TurnContext, RecordingSender]:
    sender = RecordingSender()
    inbound = activity or {
        **message("hi", activity_id="in-1"),
        "serviceUrl": "https://smba.example/",
    }
    return TurnContext(sender, Activity.from_dict(dict(inbound))), sender


async def test_text_reply_is_addressed_back_to_the_sender() -> None:
    context, sender = context_for()
    assert not context.responded

    response = await context.send_activity("hello", speak="hello!")

    assert response == ResourceResponse(id="r1")
    assert context.responded
    assert sender.sent[0].to_dict() == {
        "type": "message",
        "text": "hello",
        "speak": "hello!",
        "inputHint": "acceptingInput",
        "serviceUrl": "https://smba.example/",
        "from": {"id": "bot-1", "name": "Bot"},
        "recipient": {"id": "user-1", "name": "user-1 name"},
        "conversation": {"id": "conv-1"},
        "channelId": "test",
        "replyToId": "in-1",
        "locale": "en-US",
    }


async def test_an_activity_keeps_its_content_and_loses_a_stray_id() -> None:
    context, sender = context_for()
    outgoing = Activity(type="typing", id="mine", service_url="https://elsewhere", locale="fr-FR")

    await context.send_activities([outgoing, Activity(type="trace", name="t")])

    typing, trace = sender.sent
    assert (typing.type, typing.id, typing.service_url) == ("typing", None, "https://smba.example/")
    assert typing.locale == "fr-FR" and typing.input_hint is None
    assert (trace.type, trace.reply_to_id) == ("trace", "in-1")
    assert outgoing.id == "mine"  # the caller's object is not modified


async def test_traces_alone_do_not_count_as_a_response() -> None:
    context, sender = context_for()
    await context.send_trace_activity("t", {"v": 1}, "vt", "label")
    assert not context.responded
    assert sender.sent[0].to_dict()["valueType"] == "vt"
    with pytest.raises(ValueError, match="only be set to True"):
        context.responded = False
    context.responded = True
    assert context.responded


async def test_send_hooks_run_in_order_and_can_stop_the_send() -> None:
    context, sender = context_for()
    calls: list[str] = []

    def hook(name: str, proceed: bool) -> Callable[..., Awaitable[list[ResourceResponse]]]:
        async def handler(
            ctx: TurnContext,
            activities: list[Activity],
            following: Callable[[], Awaitable[list[ResourceResponse]]],
        ) -> list[ResourceResponse]:
            calls.append(f"{name}:{activities[0].text}")
            if not proceed:
                return []
            activities[0].text = f"{activities[0].text}+{name}"
            return await following()

        return handler

    context.on_send_activities(hook("a", True)).on_send_activities(hook("b", True))
    await context.send_activity("x")
    assert calls == ["a:x", "b:x+a"]
    assert sender.sent[0].text == "x+a+b"

    context.on_send_activities(hook("stop", False))
    assert await context.send_activity("y") is None
    assert len(sender.sent) == 1  # really not sent
    assert calls[-1] == "stop:y+a+b"


async def test_update_and_delete_go_through_their_hooks() -> None:
    context, sender = context_for()
    seen: list[str] = []

    async def on_update(
        ctx: TurnContext,
        activity: Activity,
        following: Callable[[], Awaitable[ResourceResponse | None]],
    ) -> ResourceResponse | None:
        seen.append(f"update {activity.id}")
        return await following()

    async def on_delete(
        ctx: TurnContext, reference: ConversationReference, following: Callable[[], Awaitable[None]]
    ) -> None:
        seen.append(f"delete {reference.activity_id}")  # not calling following: suppressed

    context.on_update_activity(on_update).on_delete_activity(on_delete)
    await context.update_activity(Activity(type="message", id="a-7", text="edited"))
    await context.delete_activity("a-8")

    assert seen == ["update a-7", "delete a-8"]
    assert [(a.id, a.text, a.conversation and a.conversation.id) for a in sender.updated] == [
        ("a-7", "edited", "conv-1")
    ]
    assert sender.deleted == []
    with pytest.raises(ValueError, match=r"activity\.id"):
        await context.update_activity(Activity(type="message", text="no id"))


def test_conversation_reference_round_trip() -> None:
    inbound = Activity.from_dict({**message("hi", activity_id="a1"), "serviceUrl": "https://s/"})
    reference = TurnContext.get_conversation_reference(inbound)
    assert reference.to_dict() == {
        "activityId": "a1",
        "user": {"id": "user-1", "name": "user-1 name"},
        "bot": {"id": "bot-1", "name": "Bot"},
        "conversation": {"id": "conv-1"},
        "channelId": "test",
        "locale": "en-US",
        "serviceUrl": "https://s/",
    }
    outgoing = TurnContext.apply_conversation_reference(Activity(type="message"), reference)
    assert (outgoing.from_property, outgoing.recipient) == (reference.bot, reference.user)
    assert outgoing.reply_to_id == "a1"
    incoming = TurnContext.apply_conversation_reference(Activity(type="event"), reference, True)
    assert (incoming.from_property, incoming.recipient, incoming.id) == (
        reference.user,
        reference.bot,
        "a1",
    )


@pytest.mark.parametrize(
    ("overrides", "keeps_id"),
    [
        ({}, True),
        ({"type": "conversationUpdate"}, False),
        ({"channelId": "directline"}, False),
        ({"channelId": "webchat"}, False),
    ],
)
def test_reference_drops_the_id_where_channels_refuse_replies(
    overrides: dict[str, str], keeps_id: bool
) -> None:
    inbound = Activity.from_dict({**message("hi", activity_id="a1"), **overrides})
    assert (TurnContext.get_conversation_reference(inbound).activity_id == "a1") is keeps_id
