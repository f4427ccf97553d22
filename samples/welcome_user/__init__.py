"""Welcome users (the SDK's 03.welcome-users sample, ported): greets whoever joins, tells a
first-time user what the bot does, then answers hi/hello and shows an intro card for
intro/help. Whether the user has been welcomed is kept in user state, in Redis, so any worker
can take the next message.

Run it: `turnstream dev --bot samples.welcome_user:bot`.

Ported from botbuilder by changing imports; the sample's app.py (aiohttp server, CloudAdapter,
on_error) becomes the BotApp below: its on_error is what BotApp's default does.
"""

from __future__ import annotations

from samples.welcome_user.bots import WelcomeUserBot
from worker.bot import BotApp, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    return BotApp(WelcomeUserBot(UserState(storage)))


bot = create_app(RedisStorage())
