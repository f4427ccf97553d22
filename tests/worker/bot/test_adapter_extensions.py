"""AdapterExtensions register storage and state with an adapter the bot holds (a TestAdapter);
calculate_change_hash tells a changed item from an unchanged one."""

from __future__ import annotations

import pytest

from worker.bot import AdapterExtensions, calculate_change_hash
from worker.bot.state import ConversationState, UserState
from worker.bot.storage import ETAG, MemoryStorage, StoreItem
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext


async def test_storage_and_state_are_in_turn_state_and_state_saves_itself() -> None:
    storage = MemoryStorage()
    conversation, user = ConversationState(storage), UserState(storage)
    found: list[object] = []

    async def bot(context: TurnContext) -> None:
        found.append(context.turn_state[AdapterExtensions.fullname(storage)])
        found.append(context.turn_state["worker.bot.state.UserState"])
        count = conversation.create_property("count")
        await count.set(context, await count.get(context, 0) + 1)
        await context.send_activity(str(await count.get(context)))

    adapter = TestAdapter(bot)
    AdapterExtensions.use_storage(adapter, storage)
    assert AdapterExtensions.use_bot_state(adapter, conversation, user) is adapter
    await adapter.test("a", "1")
    await adapter.test("b", "2")  # saved after each turn without the bot saving
    assert found[:2] == [storage, user]
    with pytest.raises(TypeError):
        AdapterExtensions.use_bot_state(adapter)


def test_the_change_hash_ignores_the_etag_and_follows_the_data() -> None:
    first = calculate_change_hash({"n": 1, ETAG: "a"})
    assert first == calculate_change_hash({"n": 1, ETAG: "b"})
    assert first != calculate_change_hash({"n": 2})
    assert calculate_change_hash(StoreItem(n=1)) != first
