"""`AdapterExtensions`: botbuilder's helpers that register storage and state with an adapter
(as turn_state services, and state saved automatically).

In a worker the bot does not build its adapter: the same is said with
`BotApp(middleware=[AutoSaveStateMiddleware(...), RegisterClassMiddleware(...)])`. These
helpers serve adapters the bot does hold: `TestAdapter` and adapters of its own.
"""

from __future__ import annotations

from typing import TypeVar

from worker.bot.bot_adapter import BotAdapter
from worker.bot.middleware import RegisterClassMiddleware
from worker.bot.state import BotState, ConversationState, UserState
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import Storage

A = TypeVar("A", bound=BotAdapter)


class AdapterExtensions:
    """botbuilder's helpers that register storage and state with an adapter (see the module's
    docstring for where they apply)."""

    @staticmethod
    def use_storage(adapter: A, storage: Storage) -> A:
        """Put `storage` in every turn's `turn_state`, under its class's full name."""
        return adapter.use(RegisterClassMiddleware(storage))

    @staticmethod
    def use_bot_state(bot_adapter: A, *bot_states: BotState, auto: bool = True) -> A:
        """Put each state in every turn's `turn_state` (under its class's full name) and, with
        `auto`, load them before each turn and save them after it."""
        if not bot_states:
            raise TypeError("use_bot_state needs at least one BotState")
        for bot_state in bot_states:
            bot_adapter.use(RegisterClassMiddleware(bot_state))
        if auto:
            bot_adapter.use(AutoSaveStateMiddleware(*bot_states))
        return bot_adapter

    @staticmethod
    def use_state(
        adapter: A, user_state: UserState, conversation_state: ConversationState, auto: bool = True
    ) -> A:
        """botbuilder's older form of `use_bot_state(adapter, user_state, conversation_state)`."""
        return AdapterExtensions.use_bot_state(adapter, user_state, conversation_state, auto=auto)

    @staticmethod
    def fullname(obj: object) -> str:
        """The `turn_state` key a service is registered under: `module.ClassName`."""
        return RegisterClassMiddleware.fullname(obj)
