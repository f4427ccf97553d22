"""DialogTestClient: drive dialogs turn by turn the way the worker does.

Every turn gets a fresh ConversationState and DialogSet over the same MemoryStorage, so the only
thing carried from one turn to the next is the stored plain data: a dialog stack that works here
is one that any other worker process could continue. After each turn the stored state must also
survive a JSON round trip unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.dialogs import Dialog, DialogSet, DialogTurnResult, DialogTurnStatus
from worker.bot.state import ConversationState
from worker.bot.storage import ETAG, MemoryStorage
from worker.bot.turn_context import TurnContext

DIALOG_STATE = "DialogState"

DialogSource = Dialog | Callable[[], Dialog]
"""A dialog, or a factory called on every turn (to prove no turn data is kept on the object)."""


class DialogTestClient:
    """Runs `dialogs` (the first is the root) one inbound activity at a time.

    Each `send` continues the stored stack, or begins the root with `options` when the stack is
    empty (as `run_dialog` does), saves the state and returns what the bot sent in that turn.
    `activity_defaults` (wire-format fields, e.g. `{"localTimestamp": ...}`) go into every
    inbound activity unless the activity sets them.
    """

    def __init__(
        self,
        *dialogs: DialogSource,
        options: Any = None,
        activity_defaults: Mapping[str, Any] | None = None,
        channel: str = "test",
    ) -> None:
        if not dialogs:
            raise TypeError("DialogTestClient needs at least the root dialog")
        self.dialogs = dialogs
        self.options = options
        self.activity_defaults = dict(activity_defaults or {})
        self.channel = channel
        self.conversation = f"conv-{uuid.uuid4().hex[:8]}"
        self.storage = MemoryStorage()
        self.result: DialogTurnResult | None = None
        self.turns = 0

    async def send(self, text_or_activity: str | Activity | Mapping[str, Any]) -> list[Activity]:
        """Run one turn with a message (text) or any activity; return the bot's replies."""
        self.turns += 1
        sender = RecordingSender()
        context = TurnContext(sender, self._inbound(text_or_activity))
        state = ConversationState(self.storage)
        dialog_set = DialogSet(state.create_property(DIALOG_STATE))
        root, *others = [d if isinstance(d, Dialog) else d() for d in self.dialogs]
        for dialog in (root, *others):
            dialog_set.add(dialog)
        dialog_context = await dialog_set.create_context(context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            result = await dialog_context.begin_dialog(root.id, self.options)
        await state.save_changes(context)
        self.result = result
        stored = await self.stored()
        assert json.loads(json.dumps(stored)) == stored, "dialog state is not plain JSON data"
        return sender.sent

    async def stored(self) -> dict[str, Any]:
        """The conversation state as stored (without its eTag); {} before the first save."""
        key = f"{self.channel}/conversations/{self.conversation}"
        item = (await self.storage.read([key])).get(key, {})
        return {k: v for k, v in item.items() if k != ETAG}

    async def stack(self) -> list[dict[str, Any]]:
        """The stored dialog stack, active dialog first."""
        dialog_state = (await self.stored()).get(DIALOG_STATE, {})
        stack: list[dict[str, Any]] = dialog_state.get("dialogStack", [])
        return stack

    def _inbound(self, text_or_activity: str | Activity | Mapping[str, Any]) -> Activity:
        base = message(
            "", activity_id=f"in-{self.turns}", conversation=self.conversation, channel=self.channel
        )
        del base["text"]
        if isinstance(text_or_activity, str):
            given: Mapping[str, Any] = {"type": "message", "text": text_or_activity}
        elif isinstance(text_or_activity, Activity):
            given = text_or_activity.to_dict()
        else:
            given = text_or_activity
        return Activity.from_dict({**base, **self.activity_defaults, **given})
