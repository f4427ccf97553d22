"""The test kit, used as botbuilder's TestAdapter/TestFlow tests use theirs: turns run in
process through the worker's turn pipeline, replies asserted in order."""

from __future__ import annotations

import pytest

from shared.schema.activity import Activity, ActivityTypes
from worker.bot import (
    ActivityHandler,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
)
from worker.bot.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
    run_dialog,
)
from worker.bot.dialogs.prompts import PromptOptions, TextPrompt
from worker.bot.testing import DialogTestClient, TestAdapter, TestFlow
from worker.bot.types import NextHandler


async def echo(turn_context: TurnContext) -> None:
    if turn_context.activity.type == ActivityTypes.MESSAGE:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")


async def test_send_and_assert_reply_step_by_step() -> None:
    adapter = TestAdapter(echo)
    step1 = await adapter.send("hello")
    step2 = await step1.assert_reply("echo: hello")
    step3 = await step2.send("bye")
    await step3.assert_reply("echo: bye")
    await adapter.test("again", "echo: again")
    await adapter.tests(("one", "echo: one"), ("two", "echo: two"))
    flow = TestFlow(None, adapter)  # botbuilder's (previous, adapter) spelling
    await (await flow.send("three")).assert_reply("echo: three")
    with pytest.raises(TypeError, match="TestAdapter"):
        TestFlow(None)


async def test_a_reply_checked_by_text_activity_function_or_one_of() -> None:
    adapter = TestAdapter(echo)
    await adapter.test("a", Activity(type=ActivityTypes.MESSAGE, text="echo: a"))

    def inspect(activity: Activity, description: str | None) -> None:
        assert activity.text == "echo: b" and activity.reply_to_id is not None

    await adapter.test("b", inspect)
    flow = await adapter.send("c")
    await flow.assert_reply_one_of(["echo: x", "echo: c"])
    await (await adapter.send("substring")).assert_reply("sub", is_substring=True)


async def test_a_wrong_or_missing_reply_fails_the_test() -> None:
    adapter = TestAdapter(echo)
    with pytest.raises(AssertionError, match="expected 'nope'"):
        await adapter.test("a", "nope")
    with pytest.raises(AssertionError, match="none came"):
        await TestFlow(adapter).assert_reply("anything", timeout=10)
    flow = await adapter.send("x")
    with pytest.raises(AssertionError, match="echo: x"):
        await flow.assert_no_reply()


async def test_the_bots_exception_reaches_the_test_unless_on_turn_error_is_set() -> None:
    async def broken(turn_context: TurnContext) -> None:
        raise ValueError("bot bug")

    adapter = TestAdapter(broken)
    with pytest.raises(ValueError, match="bot bug"):
        await adapter.send("hi")
    seen: list[Exception] = []

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        seen.append(error)
        await turn_context.send_activity("sorry")

    adapter.on_turn_error = on_turn_error
    await adapter.test("hi", "sorry")
    assert [str(e) for e in seen] == ["bot bug"]


async def test_middleware_state_and_a_handler_across_turns() -> None:
    calls: list[str] = []

    class Logging:
        async def on_turn(self, turn_context: TurnContext, logic: NextHandler) -> None:
            calls.append(turn_context.activity.text or turn_context.activity.type or "")
            await logic()

    state = ConversationState(MemoryStorage())
    count = state.create_property("count")

    class Counter(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            n = await count.get(turn_context, 0) + 1
            await count.set(turn_context, n)
            await state.save_changes(turn_context)
            await turn_context.send_activity(MessageFactory.text(f"{n}"))

        async def on_members_added_activity(self, members: list, turn_context: TurnContext) -> None:  # type: ignore[type-arg]
            await turn_context.send_activity("welcome")

    adapter = TestAdapter(Counter().on_turn).use(Logging())
    flow = await adapter.send_conversation_update()
    flow = await flow.assert_reply("welcome")
    await adapter.tests(("a", "1"), ("b", "2"), ("c", "3"))
    assert calls == ["conversationUpdate", "a", "b", "c"]


async def test_a_dialog_with_a_prompt_runs_over_turns() -> None:
    state = ConversationState(MemoryStorage())
    dialog_state = state.create_property("DialogState")

    class Ask(ComponentDialog):
        def __init__(self) -> None:
            super().__init__("ask")
            self.add_dialog(TextPrompt("text"))
            self.add_dialog(WaterfallDialog("steps", [self.ask, self.answer]))
            self.initial_dialog_id = "steps"

        async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
            prompt = MessageFactory.text("name?")
            return await step.prompt("text", PromptOptions(prompt=prompt))

        async def answer(self, step: WaterfallStepContext) -> DialogTurnResult:
            await step.context.send_activity(f"hello {step.result}")
            return await step.end_dialog()

    dialog = Ask()

    async def logic(turn_context: TurnContext) -> None:
        await run_dialog(dialog, turn_context, dialog_state)
        await state.save_changes(turn_context)

    adapter = TestAdapter(logic)
    await adapter.test("hi", "name?")
    await adapter.test("Ada", "hello Ada")


async def test_traces_are_kept_only_when_asked() -> None:
    async def tracing(turn_context: TurnContext) -> None:
        await turn_context.send_trace_activity("trace", "v")
        await turn_context.send_activity("done")

    await (await (await TestAdapter(tracing).send("x")).assert_reply("done")).assert_no_reply()
    kept = TestAdapter(tracing, send_trace_activities=True)
    flow = await kept.send("x")
    await flow.assert_reply(Activity(type=ActivityTypes.TRACE))
    await flow.assert_reply("done")


class AskName(ComponentDialog):
    def __init__(self) -> None:
        super().__init__("ask-name")
        self.add_dialog(TextPrompt("text"))
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.answer]))
        self.initial_dialog_id = "steps"

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        greeting = step.options or "name?"
        return await step.prompt("text", PromptOptions(prompt=MessageFactory.text(greeting)))

    async def answer(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"hello {step.result}")
        await step.context.send_activity("bye")
        return await step.end_dialog(step.result)


async def test_the_dialog_test_client_runs_a_dialog_turn_by_turn() -> None:
    client = DialogTestClient("test", AskName(), initial_dialog_options="who are you?")
    reply = await client.send_activity("hi")
    assert reply is not None and reply.text == "who are you?"
    assert _result(client).status == DialogTurnStatus.Waiting
    reply = await client.send_activity("Ada")
    assert reply is not None and reply.text == "hello Ada"
    next_reply = client.get_next_reply()
    assert next_reply is not None and next_reply.text == "bye"
    assert client.get_next_reply() is None
    assert _result(client).status == DialogTurnStatus.Complete
    assert _result(client).result == "Ada"


def _result(client: DialogTestClient) -> DialogTurnResult:
    assert client.dialog_turn_result is not None
    return client.dialog_turn_result


async def test_continue_conversation_runs_the_callback_at_once_as_botbuilders_does() -> None:
    """Proactive code written as the SDK's samples write it is testable in process: the
    callback (a lambda) runs on the continuation event, through the adapter's middleware."""
    seen: list[str | None] = []

    class Remember:
        async def on_turn(self, context: TurnContext, next_handler: NextHandler) -> None:
            seen.append(context.activity.name or context.activity.type)
            await next_handler()

    async def notify(turn_context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        await turn_context.adapter.continue_conversation(
            reference, lambda context: context.send_activity("proactive hello"), ""
        )
        await turn_context.send_activity("sent")

    adapter = TestAdapter(notify).use(Remember())

    await (await (await adapter.send("notify")).assert_reply("proactive hello")).assert_reply(
        "sent"
    )
    assert seen == ["message", "ContinueConversation"]
    with pytest.raises(ValueError, match="skills are not supported"):
        await adapter.continue_conversation(
            TurnContext.get_conversation_reference(adapter.make_activity("x")),
            notify,
            "",
            None,
            "https://elsewhere.example",
        )


async def test_updates_and_deletes_are_kept_for_the_test() -> None:
    async def logic(turn_context: TurnContext) -> None:
        await turn_context.update_activity(Activity(type="message", id="r1", text="new"))
        await turn_context.delete_activity("r1")
        await turn_context.send_activity("done")

    adapter = TestAdapter(logic)
    await adapter.test("go", "done")
    assert [a.text for a in adapter.updated_activities] == ["new"]
    assert [r.activity_id for r in adapter.deleted_activities] == ["r1"]


async def test_create_conversation_runs_the_callback_in_a_new_conversation_now() -> None:
    seen: list[str] = []

    async def greet(turn_context: TurnContext) -> None:
        conversation = turn_context.activity.conversation
        assert conversation is not None and conversation.id is not None
        seen.append(conversation.id)
        await turn_context.send_activity("welcome")

    async def logic(turn_context: TurnContext) -> None:
        await adapter.create_conversation("test", greet)

    adapter = TestAdapter(logic)
    await adapter.send("start")
    reply = adapter.get_next_activity()
    assert reply is not None and reply.text == "welcome"
    assert seen and seen[0] != "Convo1"


async def test_botbuilders_reference_and_context_helpers() -> None:
    reference = TestAdapter.create_conversation_reference("Chat", "Ann", "Bot")
    assert reference.conversation is not None and reference.conversation.id == "Chat"
    assert reference.user is not None and reference.user.id == "ann"
    adapter = TestAdapter(echo, reference)
    await adapter.test("hi", "echo: hi")
    context = adapter.create_turn_context(adapter.make_activity("x"))
    assert context.adapter is adapter and context.activity.text == "x"
    resource = await adapter.get_sign_in_resource(context, "graph")
    assert resource.sign_in_link == "https://fake.com/oauthsignin/graph/test/ann"
