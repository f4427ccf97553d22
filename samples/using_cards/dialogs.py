"""MainDialog: which card? (a ChoicePrompt), then that card, built with CardFactory."""

from __future__ import annotations

from collections.abc import Callable

from samples.using_cards.itinerary_card import ITINERARY_CARD
from worker.bot import (
    ActionTypes,
    AnimationCard,
    Attachment,
    AttachmentLayoutTypes,
    AudioCard,
    CardAction,
    CardFactory,
    CardImage,
    Fact,
    HeroCard,
    MediaUrl,
    MessageFactory,
    OAuthCard,
    ReceiptCard,
    ReceiptItem,
    SigninCard,
    ThumbnailCard,
    ThumbnailUrl,
    VideoCard,
)
from worker.bot.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog
from worker.bot.dialogs import WaterfallStepContext as Step
from worker.bot.dialogs.choices import Choice
from worker.bot.dialogs.prompts import ChoicePrompt, PromptOptions

MAIN_WATERFALL_DIALOG = "mainWaterfallDialog"
CARD_PROMPT = "cardPrompt"
BOT_SERVICE_DOCS = "https://docs.microsoft.com/en-us/azure/bot-service/"
BUILD_VIDEO_STILL = (
    "https://sec.ch9.ms/ch9/7ff5/e07cfef0-aa3b-40bb-9baa-7c9ef8ff7ff5/"
    "buildreactionbotframework_960.jpg"
)
ICONS = "https://github.com/amido/azure-vector-icons/raw/master/renders/"


def _open(title: str, url: str) -> CardAction:
    return CardAction(type=ActionTypes.open_url, title=title, value=url)


def adaptive_card() -> Attachment:
    return CardFactory.adaptive_card(ITINERARY_CARD)


def animation_card() -> Attachment:
    return CardFactory.animation_card(
        AnimationCard(
            title="Microsoft Bot Framework",
            subtitle="Animation Card",
            media=[MediaUrl(url="http://i.giphy.com/Ki55RUbOV5njy.gif")],
        )
    )


def audio_card() -> Attachment:
    return CardFactory.audio_card(
        AudioCard(
            title="I am your father",
            subtitle="Star Wars: Episode V - The Empire Strikes Back",
            text="The Empire Strikes Back is a 1980 American epic space opera film directed "
            "by Irvin Kershner, the second film of the original Star Wars trilogy.",
            image=ThumbnailUrl(
                url="https://upload.wikimedia.org/wikipedia/en/3/3c/SW_-_Empire_Strikes_Back.jpg"
            ),
            media=[MediaUrl(url="https://wavlist.com/wav/father.wav")],
            buttons=[_open("Read more", "https://en.wikipedia.org/wiki/The_Empire_Strikes_Back")],
        )
    )


def hero_card() -> Attachment:
    return CardFactory.hero_card(
        HeroCard(
            title="",
            images=[CardImage(url=BUILD_VIDEO_STILL)],
            buttons=[_open("Get Started", BOT_SERVICE_DOCS)],
        )
    )


def oauth_card() -> Attachment:
    return CardFactory.oauth_card(
        OAuthCard(
            text="BotFramework OAuth Card",
            connection_name="OAuth connection",  # the name of the bot's OAuth connection
            buttons=[
                CardAction(
                    type=ActionTypes.signin, title="Sign in", value="https://example.org/signin"
                )
            ],
        )
    )


def receipt_card() -> Attachment:
    return CardFactory.receipt_card(
        ReceiptCard(
            title="John Doe",
            facts=[
                Fact(key="Order Number", value="1234"),
                Fact(key="Payment Method", value="VISA 5555-****"),
            ],
            items=[
                ReceiptItem(
                    title="Data Transfer",
                    price="$38.45",
                    quantity="368",
                    image=CardImage(url=f"{ICONS}traffic-manager.png"),
                ),
                ReceiptItem(
                    title="App Service",
                    price="$45.00",
                    quantity="720",
                    image=CardImage(url=f"{ICONS}cloud-service.png"),
                ),
            ],
            tax="$7.50",
            total="90.95",
            buttons=[
                _open(
                    "More Information",
                    "https://azure.microsoft.com/en-us/pricing/details/bot-service/",
                )
            ],
        )
    )


def signin_card() -> Attachment:
    return CardFactory.signin_card(
        SigninCard(
            text="BotFramework Sign-in Card",
            buttons=[
                CardAction(
                    type=ActionTypes.signin,
                    title="Sign-in",
                    value="https://login.microsoftonline.com",
                )
            ],
        )
    )


def thumbnail_card() -> Attachment:
    return CardFactory.thumbnail_card(
        ThumbnailCard(
            title="BotFramework Thumbnail Card",
            subtitle="Your bots — wherever your users are talking",
            text="Build and connect intelligent bots that talk with your users wherever they are.",
            images=[CardImage(url=BUILD_VIDEO_STILL)],
            buttons=[_open("Get Started", BOT_SERVICE_DOCS)],
        )
    )


def video_card() -> Attachment:
    return CardFactory.video_card(
        VideoCard(
            title="Big Buck Bunny",
            subtitle="by the Blender Institute",
            text="Big Buck Bunny is a short computer-animated comedy film by the Blender "
            "Institute, released under Creative Commons License Attribution 3.0.",
            media=[
                MediaUrl(
                    url="http://download.blender.org/peach/bigbuckbunny_movies/"
                    "BigBuckBunny_320x180.mp4"
                )
            ],
            buttons=[_open("Learn More", "https://peach.blender.org/")],
        )
    )


# The choices in the order the prompt lists them (its number picks one), with the card each
# one sends; "All Cards" sends every card in a carousel.
CARDS: dict[str, tuple[list[str], Callable[[], Attachment]]] = {
    "Adaptive Card": (["adaptive"], adaptive_card),
    "Animation Card": (["animation"], animation_card),
    "Audio Card": (["audio"], audio_card),
    "Hero Card": (["hero"], hero_card),
    "OAuth Card": (["oauth"], oauth_card),
    "Receipt Card": (["receipt"], receipt_card),
    "Signin Card": (["signin"], signin_card),
    "Thumbnail Card": (["thumbnail", "thumb"], thumbnail_card),
    "Video Card": (["video"], video_card),
}


class MainDialog(ComponentDialog):
    def __init__(self) -> None:
        super().__init__("MainDialog")
        self.add_dialog(ChoicePrompt(CARD_PROMPT))
        self.add_dialog(
            WaterfallDialog(MAIN_WATERFALL_DIALOG, [self.choice_card_step, self.show_card_step])
        )
        self.initial_dialog_id = MAIN_WATERFALL_DIALOG

    async def choice_card_step(self, step_context: Step) -> DialogTurnResult:
        # Asked when no dialog is running; asked again (retry prompt) on an unknown answer.
        return await step_context.prompt(
            CARD_PROMPT,
            PromptOptions(
                prompt=MessageFactory.text(
                    "What card would you like to see? You can click or type the card name"
                ),
                retry_prompt=MessageFactory.text(
                    "That was not a valid choice, please select a card or number from 1 to 9."
                ),
                choices=self.get_choices(),
            ),
        )

    async def show_card_step(self, step_context: Step) -> DialogTurnResult:
        chosen = CARDS.get(step_context.result.value)
        if chosen is not None:
            reply = MessageFactory.list([chosen[1]()])
        else:
            reply = MessageFactory.list([make() for _, make in CARDS.values()])
            reply.attachment_layout = AttachmentLayoutTypes.carousel
        await step_context.context.send_activity(reply)
        await step_context.context.send_activity("Type anything to see another card.")
        return await step_context.end_dialog()

    def get_choices(self) -> list[Choice]:
        choices = [Choice(value=name, synonyms=synonyms) for name, (synonyms, _) in CARDS.items()]
        return [*choices, Choice(value="All Cards", synonyms=["all"])]
