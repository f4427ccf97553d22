"""DialogManager: runs a root dialog for each turn and saves the state it used, as botbuilder's
`DialogManager` does (a bot's `on_turn` can be one `await manager.on_turn(context)`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Activity
from worker.bot.dialogs.dialog import Dialog, DialogTurnResult, DialogTurnStatus
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.dialogs.dialog_set import DialogSet
from worker.bot.state import BotState, ConversationState, UserState
from worker.bot.turn_context import TurnContext

LAST_ACCESS = "_lastAccess"
"""The conversation state property holding when the conversation last had a turn."""


@dataclass
class DialogManagerResult:
    """What `DialogManager.on_turn` ran to: the dialog turn's result. `activities` and
    `persisted_state` exist for botbuilder's shape and are not filled (turnstream's runtime
    sends and commits)."""

    turn_result: DialogTurnResult | None = None
    activities: list[Activity] | None = None
    persisted_state: Any = None


class DialogManager:
    """Each turn: continue the dialog stack kept in conversation state under
    `dialog_state_property` ("DialogState"), begin `root_dialog` when the stack is empty, and
    save the conversation (and user) state.

    The states are the `conversation_state` / `user_state` attributes, else those found in
    `turn_state` under "ConversationState" / "UserState" (the attributes are put there for the
    dialogs to find). `expire_after` (milliseconds) starts a conversation idle that long afresh;
    `initial_turn_state` is copied into every turn's `turn_state`; `dialogs` holds the root and
    any other dialog the root begins by id.
    """

    def __init__(
        self, root_dialog: Dialog | None = None, dialog_state_property: str | None = None
    ) -> None:
        self.root_dialog = root_dialog
        self.dialogs = DialogSet.inner()
        self.conversation_state: ConversationState | None = None
        self.user_state: UserState | None = None
        self.initial_turn_state: dict[str, Any] = {}
        self.expire_after: int | None = None
        self.last_access = LAST_ACCESS
        self._dialog_state_property = dialog_state_property or "DialogState"

    async def on_turn(self, context: TurnContext) -> DialogManagerResult:
        """Run the turn's dialogs and save the state; a clear error without a root dialog or a
        conversation state."""
        root = self._root()
        context.turn_state.update(self.initial_turn_state)
        context.turn_state[DialogManager.__name__] = self
        conversation_state = self._conversation_state(context)
        states: list[BotState] = [conversation_state]
        if self.user_state is not None:
            context.turn_state[UserState.__name__] = self.user_state
        user_state = context.turn_state.get(UserState.__name__)
        if isinstance(user_state, UserState):
            self.user_state = user_state
            states.append(user_state)

        await self._start_afresh_if_expired(context, conversation_state)
        stack = await conversation_state.create_property(self._dialog_state_property).get(
            context, dict
        )
        dialog_context = DialogContext(self.dialogs, context, stack)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            result = await dialog_context.begin_dialog(root.id)
        for state in states:
            await state.save_changes(context, False)
        return DialogManagerResult(turn_result=result)

    def _root(self) -> Dialog:
        if self.root_dialog is None:
            raise TypeError("DialogManager needs a root_dialog")
        if self.dialogs.find_dialog(self.root_dialog.id) is None:
            self.dialogs.add(self.root_dialog)
        return self.root_dialog

    def _conversation_state(self, context: TurnContext) -> ConversationState:
        if self.conversation_state is not None:
            context.turn_state[ConversationState.__name__] = self.conversation_state
            return self.conversation_state
        found = context.turn_state.get(ConversationState.__name__)
        if not isinstance(found, ConversationState):
            raise TypeError(
                "DialogManager needs a ConversationState: set manager.conversation_state, or "
                'put one in turn_state["ConversationState"]'
            )
        self.conversation_state = found
        return found

    async def _start_afresh_if_expired(
        self, context: TurnContext, conversation_state: ConversationState
    ) -> None:
        accessor = conversation_state.create_property(self.last_access)
        now = datetime.datetime.now(datetime.UTC)
        last = await accessor.get(context, lambda: now)
        idle = now - last if isinstance(last, datetime.datetime) and last.tzinfo else None
        expiry = self.expire_after
        if (
            expiry is not None
            and idle is not None
            and idle >= datetime.timedelta(milliseconds=expiry)
        ):
            await conversation_state.clear_state(context)
        await accessor.set(context, now)
