"""BotAdapter as a base class: a bot's own adapter subclasses it and gets middleware, the
pipeline with on_turn_error, and in-process continue_conversation; TurnContext's copy
constructor; hooks written botbuilder's way do not lose the adapter's answers."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)
from tests.support.activities import message
from worker.bot.bot_adapter import BotAdapter
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler


class ListAdapter(BotAdapter):
    """An adapter of a bot's own: keeps what turns send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Activity] = []
        self.updated: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        self.sent.extend(activities)
        return [ResourceResponse(id=f"sent-{len(self.sent)}") for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        self.updated.append(activity)
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        return None


class Counting:
    def __init__(self) -> None:
        self.turns = 0

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        self.turns += 1
        await logic()


def reference() -> ConversationReference:
    return ConversationReference(
        activity_id="a1",
        bot=ChannelAccount(id="bot"),
        user=ChannelAccount(id="user"),
        conversation=ConversationAccount(id="c1"),
        channel_id="test",
        service_url="https://example.test/",
    )


def test_an_adapter_must_deliver_to_be_built() -> None:
    class Incomplete(BotAdapter):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


async def test_middleware_and_the_pipeline_run_in_order_and_return_the_callback_result() -> None:
    counting = Counting()
    adapter = ListAdapter().use(counting).use(Counting())

    async def logic(context: TurnContext) -> str:
        await context.send_activity("hi")
        return "done"

    context = TurnContext(adapter, Activity.from_dict(message("x")))
    assert await adapter.run_pipeline(context, logic) == "done"
    assert counting.turns == 1 and [a.text for a in adapter.sent] == ["hi"]


async def test_an_error_goes_to_on_turn_error_or_else_to_the_caller() -> None:
    adapter = ListAdapter()

    async def broken(context: TurnContext) -> None:
        raise LookupError("bad")

    context = TurnContext(adapter, Activity.from_dict(message("x")))
    with pytest.raises(LookupError):
        await adapter.run_pipeline(context, broken)
    seen: list[Exception] = []

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        seen.append(error)

    adapter.on_turn_error = on_error
    await adapter.run_pipeline(context, broken)
    assert [str(e) for e in seen] == ["bad"]


async def test_continue_conversation_runs_in_process_with_botbuilders_arguments() -> None:
    adapter = ListAdapter()
    seen: list[Activity] = []

    async def proactive(context: TurnContext) -> None:
        seen.append(context.activity)
        await context.send_activity("later")

    await adapter.continue_conversation(reference(), proactive, "app-id", None, "audience")
    (event,) = seen
    assert (event.type, event.name) == ("event", "ContinueConversation")
    assert event.from_property is not None and event.from_property.id == "user"
    assert event.conversation is not None and event.conversation.id == "c1"
    assert adapter.sent[0].recipient is not None and adapter.sent[0].recipient.id == "user"


async def test_the_test_adapter_continues_a_conversation_now() -> None:
    adapter = TestAdapter()
    ran: list[str] = []

    async def proactive(context: TurnContext) -> None:
        ran.append(str(context.activity.name))
        await context.send_activity("proactive hello")

    await adapter.continue_conversation(reference(), proactive, "MyBot")
    assert ran == ["ContinueConversation"]
    reply = adapter.get_next_activity()
    assert reply is not None and reply.text == "proactive hello"


def test_a_context_needs_an_adapter_and_an_activity_and_copies_share_the_turn() -> None:
    adapter = ListAdapter()
    with pytest.raises(TypeError):
        TurnContext(None, Activity())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TurnContext(adapter, None)
    original = TurnContext(adapter, Activity.from_dict(message("x")))
    original.turn_state["k"] = 1
    original.responded = True

    async def hook(context: TurnContext, activities: list[Activity], following: Any) -> Any:
        return await following()

    original.on_send_activities(hook)
    copy = TurnContext(original)
    assert copy.adapter is adapter and copy.activity is original.activity
    assert copy.responded and copy.turn_state is original.turn_state
    assert copy._on_send_activities == [hook]


async def test_hooks_that_do_not_return_still_give_the_adapters_answers() -> None:
    adapter = ListAdapter()
    context = TurnContext(adapter, Activity.from_dict(message("x")))

    async def on_send(turn_context: TurnContext, activities: list[Activity], following: Any) -> Any:
        await following()  # botbuilder's hooks often return nothing

    async def on_update(turn_context: TurnContext, activity: Activity, following: Any) -> Any:
        await following()

    context.on_send_activities(on_send).on_update_activity(on_update)
    sent = await context.send_activity("hi")
    assert sent is not None and sent.id == "sent-1"
    updated = await context.update_activity(Activity(type="message", id="sent-1", text="hey"))
    assert updated == ResourceResponse(id="sent-1")
    reply = context.get_reply_conversation_reference(context.activity, sent)
    assert reply.activity_id == "sent-1" and reply.conversation is not None


def test_values_set_for_the_turn_are_read_back_and_shared_with_copies() -> None:
    context = TurnContext(ListAdapter(), Activity.from_dict(message("x")))
    assert not context.has("greeting")
    context.set("greeting", None)
    assert context.has("greeting") and context.get("greeting") is None
    context.set("greeting", "hi")
    assert TurnContext(context).get("greeting") == "hi"
    with pytest.raises(KeyError):
        context.get("missing")
    with pytest.raises(TypeError):
        context.set("", 1)
