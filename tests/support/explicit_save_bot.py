"""A dialog bot that saves its own state, the way botbuilder's samples write them (no
AutoSaveStateMiddleware): `on_turn` ends with `conversation_state.save_changes` and
`user_state.save_changes`, and each message is first counted in user state and saved at once,
before any reply (a mid-turn save). Worker subprocesses run it as
`--bot tests.support.explicit_save_bot:bot`; the fencing tests and the chaos profile use it.

The dialog is botbuilder's multi-turn prompt, cut short: mode of transport (a choice), then
name (text), then "I have your mode of transport as {mode} and your name as {name}." A turn
that ran twice would show: an answer consumed twice ("... your name as 2."), a prompt sent
twice, or `answers` in user state larger than the number of messages sent.
"""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    BotApp,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
    UserState,
)
from worker.bot.dialogs import (
    ChoicePrompt,
    ComponentDialog,
    DialogTurnResult,
    ListStyle,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
    run_dialog,
)

TRANSPORT_PROMPT = "Please enter your mode of transport."
NAME_PROMPT = "Please enter your name."
MODES = ["Car", "Bus", "Bicycle"]


def summary(mode: str, name: str) -> str:
    return f"I have your mode of transport as {mode} and your name as {name}."


class UserProfileDialog(ComponentDialog):
    def __init__(self) -> None:
        super().__init__("UserProfileDialog")
        self.add_dialog(WaterfallDialog("main", [self.transport, self.name, self.done]))
        self.add_dialog(ChoicePrompt("choice"))
        self.add_dialog(TextPrompt("text"))
        self.initial_dialog_id = "main"

    async def transport(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = PromptOptions(prompt=TRANSPORT_PROMPT, choices=MODES, style=ListStyle.none)
        return await step.prompt("choice", options)

    async def name(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["transport"] = step.result.value
        return await step.prompt("text", PromptOptions(prompt=NAME_PROMPT))

    async def done(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(summary(step.values["transport"], step.result))
        return await step.end_dialog()


class ExplicitSaveBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, user_state: UserState) -> None:
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.dialog = UserProfileDialog()
        self.dialog_state = conversation_state.create_property("DialogState")
        self.answers = user_state.create_property("answers")

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.conversation_state.save_changes(turn_context)
        await self.user_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        answers = await self.answers.get(turn_context, 0)
        await self.answers.set(turn_context, answers + 1)
        await self.user_state.save_changes(turn_context)
        await run_dialog(self.dialog, turn_context, self.dialog_state)


def explicit_save_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        ExplicitSaveBot(conversation_state, UserState(storage)),
        conversation_state=conversation_state,
    )


bot = explicit_save_app(RedisStorage())
