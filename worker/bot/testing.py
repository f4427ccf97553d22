"""The test kit: `TestAdapter` and `TestFlow`, with botbuilder-python's names, so a bot's tests
port by changing their imports (`botbuilder.core.adapters` → `worker.bot.testing`).

Turns run in process through the worker's own turn pipeline (`ConnectorAdapter`: middleware,
the bot, state conflicts retried, what a turn sends addressed as a reply), with the Bot
Connector replaced by a queue the flow reads:

    adapter = TestAdapter(bot.on_turn)
    await adapter.test("hi", "Echo: hi")
    step = await adapter.send("hello")
    step = await step.assert_reply(lambda activity, description: ...)
    await step.assert_no_reply()

`DialogTestClient` runs one dialog the same way, a turn per `send_activity`, and hands back
each reply (botbuilder.testing's class); `StorageBaseTests` checks a storage of the bot's own
against the storage contract (botbuilder.testing's too).

Unlike the worker, an exception the bot raises reaches the test (as with botbuilder's
TestAdapter) unless an `on_turn_error` is set.
"""

# botbuilder's TestFlow takes `timeout` (ms) by that name: its API, kept so tests port unchanged.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from shared.schema.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)
from worker.bot.adapter import ConnectorAdapter
from worker.bot.bot_adapter import continuation_of
from worker.bot.dialogs import Dialog, DialogSet, DialogTurnResult, DialogTurnStatus
from worker.bot.fake_user_tokens import FakeUserTokenStore
from worker.bot.middleware import Middleware
from worker.bot.proactive import awaiting
from worker.bot.state import ConversationState
from worker.bot.storage import MemoryStorage
from worker.bot.storage_tests import StorageBaseTests as StorageBaseTests  # the kit's, too
from worker.bot.turn_context import TurnContext
from worker.bot.types import ProactiveCallback, TurnHandler
from worker.connector.client import BeforeAttempt, ConnectorClient

Expected = str | Activity | Callable[[Activity, str | None], None]
"""What `assert_reply` checks a reply against: its text, an activity (type and text), or a
function that raises AssertionError."""

DEFAULT_TIMEOUT_MS = 3000


class TestAdapter(FakeUserTokenStore, ConnectorAdapter):
    """Runs `logic` (a turn handler, e.g. `bot.on_turn`) for activities a test sends, and keeps
    what the turns send in `activity_buffer` for the flow's assertions. User tokens for the
    bot's sign-in code come from what the test adds (`add_user_token`…: `FakeUserTokenStore`)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        logic: TurnHandler | None = None,
        template_or_conversation: ConversationReference | Activity | None = None,
        send_trace_activities: bool = False,
    ) -> None:
        self._sink = _QueueConnector()
        ConnectorAdapter.__init__(self, self._sink, on_turn_error=None)
        FakeUserTokenStore.__init__(self)
        self.on_turn_error = self._raise_in_test
        self.logic = logic
        self.template = _template(template_or_conversation)
        self.send_trace_activities = send_trace_activities
        self.activity_buffer = self._sink.sent
        self.updated_activities = self._sink.updated
        self.deleted_activities: list[ConversationReference] = []
        """The references of the activities turns deleted, as botbuilder's TestAdapter keeps."""
        self._ids = itertools.count(1)
        self._errors: list[Exception] = []

    @staticmethod
    def create_conversation_reference(
        name: str, user: str = "User1", bot: str = "Bot"
    ) -> ConversationReference:
        """A reference to a conversation `name` on the test channel, with lower-cased user and
        bot accounts (botbuilder's helper), e.g. for `TestAdapter(logic, reference)`."""
        return ConversationReference(
            channel_id="test",
            service_url="https://test.com",
            conversation=ConversationAccount(is_group=False, conversation_type=name, id=name),
            user=ChannelAccount(id=user.lower(), name=user.lower()),
            bot=ChannelAccount(id=bot.lower(), name=bot.lower()),
        )

    def create_turn_context(self, activity: Activity) -> TurnContext:
        return TurnContext(self, activity)

    def make_activity(self, text: str | None = None) -> Activity:
        """A message from the template's user to its bot, with the next id."""
        return self._addressed(Activity(type=ActivityTypes.MESSAGE, text=text))

    async def receive_activity(self, activity: str | Activity) -> TurnContext:
        """Run one turn for `activity` (a text is a message from the template's user); the
        template fills in what the activity leaves out."""
        inbound = self.make_activity(activity) if isinstance(activity, str) else activity
        inbound = self._addressed(inbound)
        logic = self.logic
        if logic is None:
            raise TypeError("TestAdapter(logic) needs the turn handler to run, e.g. bot.on_turn")
        self._errors.clear()
        context = await self.process_activity(inbound.to_dict(), _Logic(logic))
        if self._errors:
            raise self._errors[0]
        return context

    async def process_activity_with(self, activity: Activity, logic: TurnHandler) -> TurnContext:
        """botbuilder's `process_activity(activity, logic)`: one turn with another handler."""
        previous, self.logic = self.logic, logic
        try:
            return await self.receive_activity(activity)
        finally:
            self.logic = previous

    async def continue_conversation(
        self,
        reference: ConversationReference | dict[str, Any],
        callback: ProactiveCallback,
        bot_id: object = None,
        claims_identity: object = None,
        audience: str | None = None,
    ) -> str:
        """Run `callback` now, as botbuilder's TestAdapter does (a worker queues it instead),
        on a `ContinueConversation` event in the reference's conversation, through the same
        pipeline as any turn; its exception reaches the test. A lambda or closure is fine here.
        Returns the event's id."""
        self._check_identity(bot_id, claims_identity, audience)
        if isinstance(reference, dict):
            reference = ConversationReference.from_dict(reference)
        continuation = continuation_of(reference)
        self._errors.clear()
        await self.process_activity(continuation.to_dict(), _Logic(awaiting(callback)))
        if self._errors:
            raise self._errors[0]
        return str(continuation.id)

    def get_next_activity(self) -> Activity | None:
        """The oldest reply not yet asserted on, or None."""
        return self.activity_buffer.pop(0) if self.activity_buffer else None

    async def send(self, user_says: str | Activity) -> TestFlow:
        """Send a message (or any activity) as the user; the returned flow asserts on replies."""
        return await TestFlow(self).send(user_says)

    async def send_conversation_update(self) -> TestFlow:
        """The user and the bot join the conversation (a `conversationUpdate`)."""
        return await TestFlow(self).send_conversation_update()

    async def test(
        self,
        user_says: str | Activity,
        expected: Expected,
        description: str | None = None,
        timeout: int | None = None,
    ) -> TestFlow:
        """Send `user_says` and assert the next reply is `expected`."""
        return await TestFlow(self).test(user_says, expected, description, timeout)

    async def tests(self, *exchanges: tuple[str, Expected]) -> None:
        """Several `test` steps: (user says, expected reply) pairs."""
        for user_says, expected in exchanges:
            await self.test(user_says, expected)

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        if self.send_trace_activities:  # traces are kept for the emulator channel only
            traces = [a for a in activities if a.type == ActivityTypes.TRACE]
            self.activity_buffer.extend(traces)
            activities = [a for a in activities if a.type != ActivityTypes.TRACE]
        return await super().send_activities(context, activities)

    async def create_conversation(  # type: ignore[override]
        self, channel_id: str, callback: TurnHandler
    ) -> None:
        """botbuilder's TestAdapter's: run `callback` now on a `conversationUpdate` of a new
        conversation in `channel_id` (not through the middleware, as there); what it sends
        joins `activity_buffer`. The worker's adapter creates conversations through the Bot
        Connector instead (`ConnectorAdapter.create_conversation`)."""
        self.activity_buffer.clear()
        update = Activity(
            type=ActivityTypes.CONVERSATION_UPDATE,
            members_added=[],
            members_removed=[],
            channel_id=channel_id,
            conversation=ConversationAccount(id=str(uuid.uuid4())),
        )
        await callback(TurnContext(self, self._addressed(update)))

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        await super().delete_activity(context, reference)
        self.deleted_activities.append(reference)

    async def _raise_in_test(self, context: TurnContext, error: Exception) -> None:
        self._errors.append(error)

    def _addressed(self, activity: Activity) -> Activity:
        reference = self.template
        filled = activity.shallow_copy()
        filled.type = filled.type or ActivityTypes.MESSAGE
        filled.id = filled.id or str(next(self._ids))
        filled.channel_id = filled.channel_id or reference.channel_id
        filled.service_url = filled.service_url or reference.service_url
        filled.conversation = filled.conversation or reference.conversation
        filled.from_property = filled.from_property or reference.user
        filled.recipient = filled.recipient or reference.bot
        filled.locale = filled.locale or reference.locale
        return filled


class TestFlow:
    """A test's conversation, one awaited step at a time; each step returns the next flow."""

    __test__ = False

    def __init__(self, previous_or_adapter: Any, adapter: TestAdapter | None = None) -> None:
        """`TestFlow(adapter)`, or botbuilder's `TestFlow(None, adapter)`: here each step is
        awaited where it is written, so there is no previous step to chain."""
        flow_adapter = adapter if adapter is not None else previous_or_adapter
        if not isinstance(flow_adapter, TestAdapter):
            raise TypeError("TestFlow needs the TestAdapter: TestFlow(adapter)")
        self.adapter = flow_adapter

    async def send(self, user_says: str | Activity) -> TestFlow:
        await self.adapter.receive_activity(user_says)
        return self

    async def send_conversation_update(self) -> TestFlow:
        reference = self.adapter.template
        members = [m for m in (reference.user, reference.bot) if m is not None]
        update = Activity(type=ActivityTypes.CONVERSATION_UPDATE, members_added=members)
        return await self.send(update)

    async def test(
        self,
        user_says: str | Activity,
        expected: Expected,
        description: str | None = None,
        timeout: int | None = None,
    ) -> TestFlow:
        await self.send(user_says)
        return await self.assert_reply(expected, description, timeout)

    async def assert_reply(
        self,
        expected: Expected,
        description: str | None = None,
        timeout: int | None = None,
        is_substring: bool = False,
    ) -> TestFlow:
        """The next reply (waiting up to `timeout` ms for one sent later) is `expected`."""
        reply = await self._next_reply(description, timeout)
        _check(reply, expected, description, is_substring)
        return self

    async def assert_reply_one_of(
        self,
        candidates: Sequence[str],
        description: str | None = None,
        timeout: int | None = None,
        is_substring: bool = False,
    ) -> TestFlow:
        """The next reply's text is one of `candidates`."""
        reply = await self._next_reply(description, timeout)
        text = reply.text or ""
        if not any((c in text) if is_substring else (c == text) for c in candidates):
            raise AssertionError(f"{description or 'reply'}: {text!r} is not one of {candidates}")
        return self

    async def assert_no_reply(
        self, description: str | None = None, timeout: int | None = None
    ) -> TestFlow:
        """Nothing more was sent (within `timeout` ms)."""
        await asyncio.sleep((timeout or 0) / 1000)
        reply = self.adapter.get_next_activity()
        if reply is not None:
            raise AssertionError(
                f"{description or 'expected no reply'}: got {reply.type} {reply.text!r}"
            )
        return self

    async def delay(self, ms: int) -> TestFlow:
        await asyncio.sleep(ms / 1000)
        return self

    async def _next_reply(self, description: str | None, timeout: int | None) -> Activity:
        deadline = asyncio.get_running_loop().time() + (timeout or DEFAULT_TIMEOUT_MS) / 1000
        while True:
            reply = self.adapter.get_next_activity()
            if reply is not None:
                return reply
            if asyncio.get_running_loop().time() >= deadline:
                raise AssertionError(f"{description or 'a reply'}: none came")
            await asyncio.sleep(0.005)


class DialogTestClient:
    """Runs `target_dialog` turn by turn through a `TestAdapter`: each `send_activity` continues
    the dialog (or begins it, with `initial_dialog_options`), saves the conversation state and
    returns the dialog's first reply of that turn; `get_next_reply` the ones after it."""

    __test__ = False

    def __init__(
        self,
        channel_or_adapter: str | TestAdapter,
        target_dialog: Dialog,
        initial_dialog_options: Any = None,
        middlewares: Sequence[Middleware] | None = None,
        conversation_state: ConversationState | None = None,
    ) -> None:
        self.conversation_state = conversation_state or ConversationState(MemoryStorage())
        self.dialog_turn_result: DialogTurnResult | None = None
        self._dialog = target_dialog
        self._options = initial_dialog_options
        self._dialog_state = self.conversation_state.create_property("DialogState")
        if isinstance(channel_or_adapter, TestAdapter):
            self.test_adapter = channel_or_adapter
            self.test_adapter.logic = self._turn
        else:
            template = _template(None)
            template.channel_id = channel_or_adapter
            self.test_adapter = TestAdapter(self._turn, template)
        self.test_adapter.use(*(middlewares or ()))

    async def send_activity(self, activity: str | Activity) -> Activity | None:
        """Run one turn; the first reply the dialog sent in it, or None."""
        await self.test_adapter.receive_activity(activity)
        return self.get_next_reply()

    def get_next_reply(self) -> Activity | None:
        return self.test_adapter.get_next_activity()

    async def _turn(self, turn_context: TurnContext) -> None:
        dialog_set = DialogSet(self._dialog_state)
        dialog_set.add(self._dialog)
        dialog_context = await dialog_set.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            result = await dialog_context.begin_dialog(self._dialog.id, self._options)
        self.dialog_turn_result = result
        await self.conversation_state.save_changes(turn_context)


def _check(reply: Activity, expected: Expected, description: str | None, substring: bool) -> None:
    what = description or "reply"
    if callable(expected):
        expected(reply, description)
        return
    if isinstance(expected, Activity):
        if expected.type and reply.type != expected.type:
            raise AssertionError(f"{what}: type {reply.type!r}, expected {expected.type!r}")
        if expected.text is not None and reply.text != expected.text:
            raise AssertionError(f"{what}: text {reply.text!r}, expected {expected.text!r}")
        return
    text = reply.text or ""
    if (expected not in text) if substring else (text != expected):
        raise AssertionError(f"{what}: {text!r}, expected {expected!r}")


def _template(given: ConversationReference | Activity | None) -> ConversationReference:
    if isinstance(given, Activity):
        return ConversationReference(
            channel_id=given.channel_id,
            # Replies are routed by it even here (the connector is a queue): never left out.
            service_url=given.service_url or "https://test.com",
            user=given.from_property,
            bot=given.recipient,
            conversation=given.conversation,
            locale=given.locale,
        )
    return given or ConversationReference(
        channel_id="test",
        service_url="https://test.com",
        user=ChannelAccount(id="User1", name="user"),  # botbuilder's TestAdapter's
        bot=ChannelAccount(id="bot", name="Bot"),
        conversation=ConversationAccount(id="Convo1", is_group=False),
    )


class _Logic:
    """The turn handler as the `Bot` `process_activity` wants."""

    def __init__(self, logic: TurnHandler) -> None:
        self._logic = logic

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self._logic(turn_context)


class _QueueConnector(ConnectorClient):
    """A Bot Connector that keeps what it is sent, in order, and answers with ids."""

    def __init__(self) -> None:  # no HTTP client: nothing leaves the process
        self.sent: list[Activity] = []
        self.updated: list[Activity] = []
        self._ids = itertools.count(1)

    async def reply_to_activity(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        *,
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        return self._keep(activity)

    async def send_to_conversation(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        before_attempt: BeforeAttempt | None = None,
    ) -> ResourceResponse:
        return self._keep(activity)

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> ResourceResponse:
        self.updated.append(Activity.from_dict(activity))
        return ResourceResponse(id=activity_id)

    async def delete_activity(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _keep(self, activity: dict[str, Any]) -> ResourceResponse:
        self.sent.append(Activity.from_dict(activity))
        return ResourceResponse(id=f"reply-{next(self._ids)}")
