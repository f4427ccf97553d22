"""`StorageBaseTests` (botbuilder.testing's name): checks a bot author runs against a storage of
their own, each an async static method that raises `AssertionError` on a broken contract and
returns True when it holds:

    assert await StorageBaseTests.update_object(MyStorage())

The contract is turnstream's (`worker.bot.storage`): items come back as copies with their
`e_tag`, a stale `e_tag` is a conflict and changes nothing, `"*"` or none writes anyway.
"""

from __future__ import annotations

from typing import Any

from worker.bot.dialogs import (
    Dialog,
    DialogSet,
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.message_factory import MessageFactory
from worker.bot.state import ConversationState
from worker.bot.storage import ETAG, Storage
from worker.bot.turn_context import TurnContext


async def _refused(call: Any) -> bool:
    try:
        await call
    except Exception:
        return True
    return False


class StorageBaseTests:
    """The storage contract as checks; see the module's docstring."""

    @staticmethod
    async def return_empty_object_when_reading_unknown_key(storage: Storage) -> bool:
        assert await storage.read(["unknown"]) == {}
        return True

    @staticmethod
    async def handle_null_keys_when_reading(storage: Storage) -> bool:
        assert await storage.read(None) == {}  # type: ignore[arg-type]
        return True

    @staticmethod
    async def handle_null_keys_when_writing(storage: Storage) -> bool:
        assert await _refused(storage.write(None)), "write(None) must be refused"  # type: ignore[arg-type]
        return True

    @staticmethod
    async def does_not_raise_when_writing_no_items(storage: Storage) -> bool:
        await storage.write([])  # type: ignore[arg-type]
        await storage.write({})
        return True

    @staticmethod
    async def create_object(storage: Storage) -> bool:
        await storage.write({"plain": {"id": 1}, "any-etag": {"id": 2, ETAG: "*"}})
        read = await storage.read(["plain", "any-etag"])
        assert (read["plain"]["id"], read["any-etag"]["id"]) == (1, 2)
        assert read["plain"][ETAG] and read["any-etag"][ETAG], "a read item carries its e_tag"
        return True

    @staticmethod
    async def handle_crazy_keys(storage: Storage) -> bool:
        key = '!@#$%^&*()_+??><":QASD~`/\\ é 🤖'
        await storage.write({key: {"id": 1}})
        assert (await storage.read([key]))[key]["id"] == 1
        return True

    @staticmethod
    async def update_object(storage: Storage) -> bool:
        await storage.write({"item": {"count": 1}})
        item = (await storage.read(["item"]))["item"]
        stale = dict(item)
        item["count"] += 1
        await storage.write({"item": item})
        assert (await storage.read(["item"]))["item"]["count"] == 2
        stale["count"] = 99
        assert await _refused(storage.write({"item": stale})), "a stale e_tag must conflict"
        assert (await storage.read(["item"]))["item"]["count"] == 2, "a conflict writes nothing"
        await storage.write({"item": {"count": 100, ETAG: "*"}})
        assert (await storage.read(["item"]))["item"]["count"] == 100, "'*' writes anyway"
        assert await _refused(storage.write({"item": {"count": 0, ETAG: ""}})), "empty e_tag"
        assert (await storage.read(["item"]))["item"]["count"] == 100
        return True

    @staticmethod
    async def delete_object(storage: Storage) -> bool:
        await storage.write({"to-delete": {"id": 1}})
        assert await storage.read(["to-delete"])
        await storage.delete(["to-delete"])
        assert await storage.read(["to-delete"]) == {}
        return True

    @staticmethod
    async def delete_unknown_object(storage: Storage) -> bool:
        await storage.delete(["unknown-key"])
        return True

    @staticmethod
    async def perform_batch_operations(storage: Storage) -> bool:
        await storage.write({"batch1": {"n": 10}, "batch2": {"n": 20}, "batch3": {"n": 30}})
        read = await storage.read(["batch1", "batch2", "batch3"])
        assert [read[k]["n"] for k in ("batch1", "batch2", "batch3")] == [10, 20, 30]
        await storage.delete(["batch1", "batch2", "batch3"])
        assert await storage.read(["batch1", "batch2", "batch3"]) == {}
        return True

    @staticmethod
    async def proceeds_through_waterfall(storage: Storage) -> bool:
        """A waterfall with a validated prompt, its state kept in `storage` between turns."""
        # The test kit re-exports this class, so its adapter is imported here, not above.
        from worker.bot.testing import TestAdapter

        conversation_state = ConversationState(storage)
        dialogs = DialogSet(conversation_state.create_property("dialogState"))

        async def long_enough(prompt_context: PromptValidatorContext) -> bool:
            if len(prompt_context.recognized.value or "") > 3:
                return True
            await prompt_context.context.send_activity("Too short, try again.")
            return False

        async def first(step: WaterfallStepContext) -> DialogTurnResult:
            await step.context.send_activity("step1")
            return Dialog.end_of_turn

        async def second(step: WaterfallStepContext) -> DialogTurnResult:
            options = PromptOptions(prompt=MessageFactory.text("Your name?"))
            return await step.prompt(TextPrompt.__name__, options)

        async def third(step: WaterfallStepContext) -> DialogTurnResult:
            await step.context.send_activity(f"step3: {step.result}")
            return Dialog.end_of_turn

        dialogs.add(WaterfallDialog("waterfall", [first, second, third]))
        dialogs.add(TextPrompt(TextPrompt.__name__, long_enough))

        async def turn(context: TurnContext) -> None:
            dialog_context = await dialogs.create_context(context)
            await dialog_context.continue_dialog()
            if not context.responded:
                await dialog_context.begin_dialog("waterfall")
            await conversation_state.save_changes(context)

        adapter = TestAdapter(turn)
        step = await adapter.test("hello", "step1")
        step = await step.test("hello", "Your name?")
        step = await step.test("Al", "Too short, try again.")
        await step.test("Alice", "step3: Alice")
        return True
