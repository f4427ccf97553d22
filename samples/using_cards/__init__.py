"""Using cards (the SDK's 06.using-cards sample, ported): a choice prompt offers nine kinds of
rich card (adaptive, animation, audio, hero, OAuth, receipt, sign-in, thumbnail, video) or all
of them in a carousel, and sends the one picked.

Run it: `turnstream dev --bot samples.using_cards:bot`.

Ported from botbuilder by changing imports; its app.py becomes create_app below. The adaptive
card's content is our own (a flight itinerary, as the sample's is).
"""

from __future__ import annotations

from samples.using_cards.bots import RichCardsBot
from samples.using_cards.dialogs import MainDialog
from worker.bot import BotApp, ConversationState, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    user_state = UserState(storage)
    return BotApp(
        RichCardsBot(conversation_state, user_state, MainDialog()),
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
