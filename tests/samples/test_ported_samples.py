"""Microsoft's botbuilder-python samples, ported to turnstream (samples/<name>), each through the
real gateway, Redis and two worker processes: the first worker runs the conversation up to
`handover` and is stopped, the second runs the rest, so dialog stacks, prompts' state and the
bots' own objects in state have to cross processes through Redis. The same scripts also run
in process (TestAdapter, MemoryStorage), for the fast tier.

Each expected transcript was recorded from botbuilder 4.17.1 running Microsoft's original
sample (BotBuilder-Samples, samples/python/<number>.<name>, its app.py with CloudAdapter)
with the same script, its replies captured at a recording Bot Connector on loopback. Every
reply recorded was a message with inputHint "acceptingInput"; `said` fills those two in.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.sample_runs import JOIN, Script, inbound, run_script, shown
from turnstream.devconnector import DevConnector
from worker.bot import BotApp, MemoryStorage
from worker.bot.testing import TestAdapter

GAP = "\n" + " " * 24  # the welcome sample's triple-quoted texts keep their indentation
YES_NO = ["Yes", "No"]
CARDS = [
    "Adaptive Card",
    "Animation Card",
    "Audio Card",
    "Hero Card",
    "OAuth Card",
    "Receipt Card",
    "Signin Card",
    "Thumbnail Card",
    "Video Card",
    "All Cards",
]


def said(
    reply_to: str | None,
    text: str | None,
    *,
    attachments: list[str] | None = None,
    layout: str | None = None,
    buttons: list[str] | None = None,
) -> dict[str, Any]:
    """A reply as `shown` gives it: suggested actions are imBack buttons whose value is their
    title."""
    reply: dict[str, Any] = {"type": "message", "inputHint": "acceptingInput"}
    if text is not None:
        reply["text"] = text
    if layout is not None:
        reply["attachmentLayout"] = layout
    if reply_to is not None:
        reply["replyToId"] = reply_to
    if attachments is not None:
        reply["attachments"] = attachments
    if buttons is not None:
        reply["suggestedActions"] = [("imBack", title, title) for title in buttons]
    return reply


# name: (script, replies before the handover, every reply in order)
CASES: dict[str, tuple[Script, int, list[dict[str, Any]]]] = {
    "welcome_user": (
        # 03.welcome-users
        Script(
            "samples.welcome_user:bot",
            "test",
            [JOIN, "hi", "Hello", "intro", "what else?"],
            handover=2,
        ),
        6,
        [
            said(
                None,
                (
                    "Hi there User. This is a simple Welcome Bot sample. This "
                    "bot will introduce you"
                    + GAP
                    + "to welcoming and greeting users. You can say 'intro' to see "
                    "the" + GAP + "introduction card. If you are running this bot in the Bot "
                    "Framework" + GAP + "Emulator, press the 'Restart Conversation' button to "
                    "simulate user joining" + GAP + "a bot or a channel"
                ),
            ),
            said(
                None,
                (
                    "You are seeing this message because the bot received at "
                    "least one" + GAP + "'ConversationUpdate' event, indicating you (and possibly "
                    "others)" + GAP + "joined the conversation. If you are using the emulator, "
                    "pressing" + GAP + "the 'Start Over' button to trigger this event again. The "
                    "specifics" + GAP + "of the 'ConversationUpdate' event depends on the channel. "
                    "You can" + GAP + "read more information at: "
                    "https://aka.ms/about-botframework-welcome-user"
                ),
            ),
            said(
                None,
                (
                    "\"You can use the 'activity.locale' property to welcome the"
                    + GAP
                    + "user using the locale received from the channel. If you are "
                    "using the " + GAP + "Emulator, you can set this value in Settings. Current "
                    "locale is en-US."
                ),
            ),
            said(
                None,
                (
                    "It is a good pattern to use this event to send general "
                    "greeting" + GAP + "to user, explaining what your bot can do. In this example, "
                    "the bot" + GAP + "handles 'hello', 'hi', 'help' and 'intro'. Try it now, type "
                    "'hi'"
                ),
            ),
            said(
                "a1",
                (
                    "You are seeing this message because this was your first "
                    "message ever to this bot."
                ),
            ),
            said(
                "a1",
                (
                    "It is a good practice to welcome the user and provide "
                    "personal greeting. For example: Welcome User"
                ),
            ),
            said("a2", "You said hello"),
            said(
                "a3",
                None,
                attachments=["application/vnd.microsoft.card.hero"],
                layout="list",
            ),
            said(
                "a4",
                (
                    "This is a simple Welcome Bot sample. This bot will "
                    "introduce you"
                    + GAP
                    + "to welcoming and greeting users. You can say 'intro' to see "
                    "the" + GAP + "introduction card. If you are running this bot in the Bot "
                    "Framework" + GAP + "Emulator, press the 'Restart Conversation' button to "
                    "simulate user joining" + GAP + "a bot or a channel"
                ),
            ),
        ],
    ),
    "multi_turn_prompt": (
        # 05.multi-turn-prompt
        Script(
            "samples.multi_turn_prompt:bot",
            "emulator",
            [
                JOIN,
                "hi",
                "bus",
                "Ann",
                "yes",
                "200",
                "30",
                {
                    "text": "",
                    "attachments": [
                        {
                            "contentType": "image/png",
                            "contentUrl": "http://127.0.0.1:1/ann.png",
                            "name": "ann.png",
                        }
                    ],
                },
                "yes",
                "again",
                "2",
                "Bob",
                "no",
                "skip",
                "no",
            ],
            handover=5,
        ),
        5,
        [
            said("a1", "Please enter your mode of transport.", buttons=["Car", "Bus", "Bicycle"]),
            said("a2", "Please enter your name."),
            said("a3", "Thanks Ann"),
            said("a3", "Would you like to give your age?", buttons=YES_NO),
            said("a4", "Please enter your age."),
            said("a5", "The value entered must be greater than 0 and less than 150."),
            said("a6", "I have your age as 30."),
            said("a6", "Please attach a profile picture (or type any message to skip)."),
            said(
                "a7", ("I have your mode of transport as Bus and your name as Ann. And age as 30.")
            ),
            said(
                "a7",
                "This is your profile picture.",
                attachments=["image/png"],
                layout="list",
            ),
            said("a7", "Is this ok?", buttons=YES_NO),
            said("a8", "Thanks. Your profile saved successfully."),
            said("a9", "Please enter your mode of transport.", buttons=["Car", "Bus", "Bicycle"]),
            said("a10", "Please enter your name."),
            said("a11", "Thanks Bob"),
            said("a11", "Would you like to give your age?", buttons=YES_NO),
            said("a12", "No age given."),
            said("a12", "Please attach a profile picture (or type any message to skip)."),
            said("a13", "No attachments received. Proceeding without a profile picture..."),
            said("a13", "I have your mode of transport as Bus and your name as Bob."),
            said("a13", "A profile picture was saved but could not be displayed here."),
            said("a13", "Is this ok?", buttons=YES_NO),
            said("a14", "Thanks. Your profile will not be kept."),
        ],
    ),
    "using_cards": (
        # 06.using-cards
        Script(
            "samples.using_cards:bot",
            "emulator",
            [
                JOIN,
                "hi",
                "hero",
                "next",
                "nothing like that",
                "all",
                "more",
                "Receipt Card",
                "more",
                "9",
            ],
            handover=3,
        ),
        4,
        [
            said(
                None,
                (
                    "Welcome to CardBot. This bot will show you different types "
                    "of Rich Cards. Please type anything to get started."
                ),
            ),
            said(
                "a1",
                "What card would you like to see? You can click or type the card name",
                buttons=CARDS,
            ),
            said(
                "a2",
                None,
                attachments=["application/vnd.microsoft.card.hero"],
                layout="list",
            ),
            said("a2", "Type anything to see another card."),
            said(
                "a3",
                "What card would you like to see? You can click or type the card name",
                buttons=CARDS,
            ),
            said(
                "a4",
                ("That was not a valid choice, please select a card or number from 1 to 9."),
                buttons=CARDS,
            ),
            said(
                "a5",
                None,
                attachments=[
                    "application/vnd.microsoft.card.adaptive",
                    "application/vnd.microsoft.card.animation",
                    "application/vnd.microsoft.card.audio",
                    "application/vnd.microsoft.card.hero",
                    "application/vnd.microsoft.card.oauth",
                    "application/vnd.microsoft.card.receipt",
                    "application/vnd.microsoft.card.signin",
                    "application/vnd.microsoft.card.thumbnail",
                    "application/vnd.microsoft.card.video",
                ],
                layout="carousel",
            ),
            said("a5", "Type anything to see another card."),
            said(
                "a6",
                "What card would you like to see? You can click or type the card name",
                buttons=CARDS,
            ),
            said(
                "a7",
                None,
                attachments=["application/vnd.microsoft.card.receipt"],
                layout="list",
            ),
            said("a7", "Type anything to see another card."),
            said(
                "a8",
                "What card would you like to see? You can click or type the card name",
                buttons=CARDS,
            ),
            said(
                "a9",
                None,
                attachments=["application/vnd.microsoft.card.video"],
                layout="list",
            ),
            said("a9", "Type anything to see another card."),
        ],
    ),
    "suggested_actions": (
        # 08.suggested-actions
        Script(
            "samples.suggested_actions:bot",
            "test",
            [JOIN, "Red", "purple", "blue"],
            handover=2,
        ),
        4,
        [
            said(
                None,
                (
                    "Welcome to SuggestedActionsBot User. This bot will "
                    "introduce you to suggestedActions. Please answer the "
                    "question: "
                ),
            ),
            said(None, "What is your favorite color?", buttons=["Red", "Yellow", "Blue"]),
            said("a1", "Red is the best color, I agree."),
            said("a1", "What is your favorite color?", buttons=["Red", "Yellow", "Blue"]),
            said("a2", "Please select a color from the suggested action choices"),
            said("a2", "What is your favorite color?", buttons=["Red", "Yellow", "Blue"]),
            said("a3", "Blue is the best color, I agree."),
            said("a3", "What is your favorite color?", buttons=["Red", "Yellow", "Blue"]),
        ],
    ),
    "custom_dialogs": (
        # 19.custom-dialogs
        Script(
            "samples.custom_dialogs:bot",
            "test",
            [
                "hi",
                "Ann",
                "Lee",
                "30",
                "20",
                "9.5",
                "1 Main St",
                "Springfield",
                "12345",
                "again",
                "Bob",
                "Ray",
                "forty",
                "10",
            ],
            handover=4,
        ),
        4,
        [
            said("a0", "Please enter your first name."),
            said("a1", "Please enter your last name."),
            said("a2", "Please enter your age."),
            said("a3", "Please enter your shoe size."),
            said("a4", "You must enter a size between 0 and 16. Half sizes are acceptable."),
            said("a5", "Please enter the street address."),
            said("a6", "Please enter the city."),
            said("a7", "Please enter the zip."),
            said("a8", "Ann Lee"),
            said("a8", "9.5"),
            said("a8", "1 Main St, Springfield, 12345"),
            said("a9", "Please enter your first name."),
            said("a10", "Please enter your last name."),
            said("a11", "Please enter your age."),
            said("a12", "Please enter your shoe size."),
            said("a13", "Please enter the street address."),
        ],
    ),
    "complex_dialog": (
        # 43.complex-dialog
        Script(
            "samples.complex_dialog:bot",
            "test",
            [
                JOIN,
                "hi",
                "Ann",
                "30",
                "Contoso Suites",
                "1",
                "again",
                "Bob",
                "20",
                "again",
                "Cy",
                "40",
                "nope",
                "done",
            ],
            handover=3,
        ),
        3,
        [
            said(
                None,
                (
                    "Welcome to Complex Dialog Bot User. This bot provides a "
                    "complex conversation, with multiple dialogs. Type anything "
                    "to get started. "
                ),
            ),
            said("a1", "Please enter your name."),
            said("a2", "Please enter your age."),
            said(
                "a3",
                (
                    "Please choose a company to review, or `done` to finish.\n\n   "
                    "1. Adatum Corporation\n   2. Contoso Suites\n   3. Graphic "
                    "Design Institute\n   4. Wide World Importers\n   5. done"
                ),
            ),
            said(
                "a4",
                (
                    "You have selected **Contoso Suites**. You can review an "
                    "additional company, or choose `done` to finish. \n\n   1. "
                    "Adatum Corporation\n   2. Graphic Design Institute\n   3. "
                    "Wide World Importers\n   4. done"
                ),
            ),
            said("a5", "Thanks for participating, Ann."),
            said("a5", "You are signed up to review Contoso Suites and Adatum Corporation."),
            said("a6", "Please enter your name."),
            said("a7", "Please enter your age."),
            said("a8", "You must be 25 or older to participate."),
            said("a8", "Thanks for participating, Bob."),
            said("a8", "You are signed up to review no companies."),
            said("a9", "Please enter your name."),
            said("a10", "Please enter your age."),
            said(
                "a11",
                (
                    "Please choose a company to review, or `done` to finish.\n\n   "
                    "1. Adatum Corporation\n   2. Contoso Suites\n   3. Graphic "
                    "Design Institute\n   4. Wide World Importers\n   5. done"
                ),
            ),
            said(
                "a12",
                (
                    "Please choose an option from the list.\n\n   1. Adatum "
                    "Corporation\n   2. Contoso Suites\n   3. Graphic Design "
                    "Institute\n   4. Wide World Importers\n   5. done"
                ),
            ),
            said("a13", "Thanks for participating, Cy."),
            said("a13", "You are signed up to review no companies."),
        ],
    ),
    "prompt_for_user_input": (
        # 44.prompt-for-user-input
        Script(
            "samples.prompt_for_user_input:bot",
            "test",
            ["hi", "Ann", "twelve", "thirty", "yesterday", "March 22, 2099", "again", "  ", "Bob"],
            handover=2,
        ),
        3,
        [
            said("a0", "Let's get started. What is your name?"),
            said("a1", "Hi Ann"),
            said("a1", "How old are you?"),
            said("a2", "Please enter an age between 18 and 120."),
            said("a3", "I have your age as 30."),
            said("a3", "When is your flight?"),
            said("a4", "I'm sorry, please enter a date at least an hour out."),
            said("a5", "Your cab ride to the airport is scheduled for 03/22/99."),
            said("a5", "Thanks for completing the booking Ann."),
            said("a5", "Type anything to run the bot again."),
            said("a6", "Let's get started. What is your name?"),
            said("a7", "Please enter a name that contains at least one character."),
            said("a8", "Hi Bob"),
            said("a8", "How old are you?"),
        ],
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(CASES))
async def test_ported_sample_replies_as_botbuilder_did(
    name: str, settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    script, before_handover, expected = CASES[name]
    replies, logs = await run_script(settings, connector, script, len(expected), before_handover)
    assert "Traceback" not in logs, logs[-4000:]
    assert replies == expected


def in_memory(bot: str) -> BotApp:
    """The sample's app over MemoryStorage (a sample without state is its bot)."""
    module_name, _, attribute = bot.partition(":")
    module = importlib.import_module(module_name)
    if hasattr(module, "create_app"):
        return BotApp.of(module.create_app(MemoryStorage()))
    return BotApp.of(getattr(module, attribute))


@pytest.mark.parametrize("name", list(CASES))
async def test_ported_sample_in_process(name: str) -> None:
    script, _, expected = CASES[name]
    app = in_memory(script.bot)
    adapter = TestAdapter(app.bot.on_turn).use(*app.middleware)
    for n in range(len(script.turns)):
        await adapter.receive_activity(
            Activity.from_dict(inbound(script, n, "http://127.0.0.1:9/"))
        )
    assert [shown(reply.to_dict()) for reply in adapter.activity_buffer] == expected
