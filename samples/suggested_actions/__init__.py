"""Suggested actions (the SDK's 08.suggested-actions sample, ported): asks for a favourite
colour with three buttons, answers the choice and asks again. No state.

Run it: `turnstream dev --bot samples.suggested_actions:bot`.

Ported from botbuilder by changing imports; its app.py becomes `bot` below (the sample's
on_error is BotApp's default).
"""

from __future__ import annotations

from samples.suggested_actions.bots import SuggestActionsBot

bot = SuggestActionsBot()
