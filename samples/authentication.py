"""Authentication bot (the SDK's bot-authentication sample): signs the user in with an
OAuthPrompt, offers to show the token, and signs out on "logout".

The OAuth connection is the one named `graph` on the bot's Azure Bot resource (set
`CONNECTION_NAME` for another). Sign-in works on Web Chat, Direct Line, Teams (the card's link,
`signin/verifyState`, single sign-on through `signin/tokenExchange`) and any channel where the
user can type the magic code. The dialog stack is in conversation state in Redis: the card may
be sent by one worker and the token received by another.
"""

from __future__ import annotations

import os

from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    ChannelAccount,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
)
from worker.bot.dialogs import (
    ComponentDialog,
    ConfirmPrompt,
    DialogTurnResult,
    OAuthPrompt,
    OAuthPromptSettings,
    PromptOptions,
    WaterfallDialog,
    WaterfallStepContext,
    run_dialog,
)

CONNECTION_NAME = os.environ.get("CONNECTION_NAME", "graph")


class MainDialog(ComponentDialog):
    def __init__(self, connection_name: str) -> None:
        super().__init__("MainDialog")
        self.oauth = OAuthPrompt(
            "OAuthPrompt",
            OAuthPromptSettings(
                connection_name=connection_name,
                title="Sign In",
                text="Please Sign In",
                timeout=300_000,
            ),
        )
        self.add_dialog(self.oauth)
        self.add_dialog(ConfirmPrompt("ConfirmPrompt"))
        self.add_dialog(WaterfallDialog("Main", [self.sign_in, self.offer_token, self.show_token]))
        self.initial_dialog_id = "Main"

    async def sign_in(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(self.oauth.id)

    async def offer_token(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:
            await step.context.send_activity("Login was not successful please try again.")
            return await step.end_dialog()
        await step.context.send_activity("You are now logged in.")
        return await step.prompt(
            "ConfirmPrompt", PromptOptions(prompt="Would you like to view your token?")
        )

    async def show_token(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result:
            # Asked again rather than kept in state: the token service holds it, fresh.
            token = await self.oauth.get_user_token(step.context)
            if token is not None:
                await step.context.send_activity(f"Here is your token {token.token}")
        return await step.end_dialog()


class AuthenticationBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, dialog: MainDialog) -> None:
        self.dialog = dialog
        self.dialog_state = conversation_state.create_property("DialogState")

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                await turn_context.send_activity(
                    "Welcome to AuthenticationBot. Type anything to get logged in. "
                    "Type 'logout' to sign-out."
                )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if (turn_context.activity.text or "").strip().lower() == "logout":
            await self.dialog.oauth.sign_out_user(turn_context)
            await self.dialog_state.delete(turn_context)
            await turn_context.send_activity("You have been signed out.")
            return
        await run_dialog(self.dialog, turn_context, self.dialog_state)

    async def on_token_response_event(self, turn_context: TurnContext) -> None:
        await run_dialog(self.dialog, turn_context, self.dialog_state)

    async def on_sign_in_invoke(self, turn_context: TurnContext) -> None:
        """Teams' signin/verifyState and signin/tokenExchange: the prompt answers them."""
        await run_dialog(self.dialog, turn_context, self.dialog_state)


def create_app(storage: Storage, connection_name: str = CONNECTION_NAME) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        AuthenticationBot(conversation_state, MainDialog(connection_name)),
        middleware=[AutoSaveStateMiddleware(conversation_state)],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
