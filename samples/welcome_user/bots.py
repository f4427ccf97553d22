"""The welcome bot: a greeting on conversationUpdate, a first-message welcome, then a few
keywords. It saves user state itself at the end of each turn, as the sample does."""

from __future__ import annotations

from samples.welcome_user.data_models import WelcomeUserState
from worker.bot import (
    ActionTypes,
    ActivityHandler,
    CardAction,
    CardFactory,
    CardImage,
    ChannelAccount,
    HeroCard,
    MessageFactory,
    TurnContext,
    UserState,
)

# The sample's texts keep its triple-quoted line breaks and indentation: channels receive them
# as sent, and the transcript test compares them with what botbuilder sent.
_GAP = "\n                        "
WELCOME_MESSAGE = _GAP.join(
    [
        "This is a simple Welcome Bot sample. This bot will introduce you",
        "to welcoming and greeting users. You can say 'intro' to see the",
        "introduction card. If you are running this bot in the Bot Framework",
        "Emulator, press the 'Restart Conversation' button to simulate user joining",
        "a bot or a channel",
    ]
)
INFO_MESSAGE = _GAP.join(
    [
        "You are seeing this message because the bot received at least one",
        "'ConversationUpdate' event, indicating you (and possibly others)",
        "joined the conversation. If you are using the emulator, pressing",
        "the 'Start Over' button to trigger this event again. The specifics",
        "of the 'ConversationUpdate' event depends on the channel. You can",
        "read more information at: https://aka.ms/about-botframework-welcome-user",
    ]
)
LOCALE_MESSAGE = _GAP.join(
    [
        "\"You can use the 'activity.locale' property to welcome the",
        "user using the locale received from the channel. If you are using the ",
        "Emulator, you can set this value in Settings.",
    ]
)
PATTERN_MESSAGE = _GAP.join(
    [
        "It is a good pattern to use this event to send general greeting",
        "to user, explaining what your bot can do. In this example, the bot",
        "handles 'hello', 'hi', 'help' and 'intro'. Try it now, type 'hi'",
    ]
)


class WelcomeUserBot(ActivityHandler):
    def __init__(self, user_state: UserState) -> None:
        if user_state is None:
            raise TypeError("[WelcomeUserBot]: user_state is required")
        self._user_state = user_state
        self.user_state_accessor = user_state.create_property("WelcomeUserState")

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._user_state.save_changes(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        # Not every channel sends conversationUpdate; the first-message welcome below covers
        # the ones that do not.
        recipient = turn_context.activity.recipient
        for member in members_added:
            if recipient is not None and member.id == recipient.id:
                continue
            await turn_context.send_activity(f"Hi there {member.name}. {WELCOME_MESSAGE}")
            await turn_context.send_activity(INFO_MESSAGE)
            await turn_context.send_activity(
                f"{LOCALE_MESSAGE} Current locale is {turn_context.activity.locale}."
            )
            await turn_context.send_activity(PATTERN_MESSAGE)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        # The class is the default factory: a new user gets a fresh WelcomeUserState.
        state = await self.user_state_accessor.get(turn_context, WelcomeUserState)
        if not state.did_welcome_user:
            state.did_welcome_user = True
            await turn_context.send_activity(
                "You are seeing this message because this was your first message ever to this bot."
            )
            sender = turn_context.activity.from_property
            name = sender.name if sender else None
            await turn_context.send_activity(
                "It is a good practice to welcome the user and provide personal greeting. "
                f"For example: Welcome {name}"
            )
            return
        text = (turn_context.activity.text or "").lower()
        if text in ("hello", "hi"):
            await turn_context.send_activity(f"You said {text}")
        elif text in ("intro", "help"):
            await self._send_intro_card(turn_context)
        else:
            await turn_context.send_activity(WELCOME_MESSAGE)

    async def _send_intro_card(self, turn_context: TurnContext) -> None:
        docs = "https://docs.microsoft.com/en-us/azure/bot-service/"
        card = HeroCard(
            title="Welcome to Bot Framework!",
            text="Welcome to Welcome Users bot sample! This Introduction card is a great way "
            "to introduce your Bot to the user and suggest some things to get them started. "
            "We use this opportunity to recommend a few next steps for learning more creating "
            "and deploying bots.",
            images=[CardImage(url="https://aka.ms/bf-welcome-card-image")],
            buttons=[
                _link("Get an overview", f"{docs}?view=azure-bot-service-4.0"),
                _link("Ask a question", "https://stackoverflow.com/questions/tagged/botframework"),
                _link(
                    "Learn how to deploy",
                    f"{docs}bot-builder-howto-deploy-azure?view=azure-bot-service-4.0",
                ),
            ],
        )
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.hero_card(card)))


def _link(title: str, url: str) -> CardAction:
    return CardAction(
        type=ActionTypes.open_url, title=title, text=title, display_text=title, value=url
    )
