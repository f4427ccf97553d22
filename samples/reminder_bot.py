"""Reminder bot: "remind me in 2 minutes to stretch" schedules a turn that, two minutes later,
says "Reminder: stretch" in the same conversation, whichever worker is alive by then.

Run it: `turnstream dev --bot samples.reminder_bot:bot` and say

- `remind me in 2 minutes to stretch` (seconds, minutes, hours, days; "an hour" works too):
  the same reminder text again moves that reminder instead of adding a second one (its key);
- `reminders`: what is waiting in this conversation;
- `cancel stretch`: drops that reminder.

The reminder is an event (`reminder`, its value the text and the due time) that the bot
handles in `on_event_activity`, so the turn needs no code kept in any process: it is queued in
Redis (docs/scheduled-turns.md) and runs in order with the conversation's other turns.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from worker.bot import ActivityHandler, TurnContext

REMINDER_EVENT = "reminder"

_UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "day": 86400}
_REQUEST = re.compile(
    r"^remind me in (?P<amount>\d+(?:\.\d+)?|an?|one) (?P<unit>second|sec|minute|min|hour|day)s?"
    r" to (?P<what>.+?)[.!]?$",
    re.IGNORECASE,
)
_CANCEL = re.compile(r"^cancel (?P<what>.+)$", re.IGNORECASE)
HELP = 'Say "remind me in 2 minutes to stretch", "reminders", or "cancel stretch".'


def parse_request(text: str) -> tuple[float, str] | None:
    """(seconds from now, what to remind of) for "remind me in N units to X", else None."""
    found = _REQUEST.match(text.strip())
    if found is None:
        return None
    amount = found["amount"].lower()
    count = 1.0 if amount in ("a", "an", "one") else float(amount)
    return count * _UNITS[found["unit"].lower()], found["what"].strip()


class ReminderBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = (turn_context.activity.text or "").strip()
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        adapter = turn_context.adapter
        request = parse_request(text)
        if request is not None:
            seconds, what = request
            due = time.time() + seconds
            await adapter.schedule_turn(
                reference,
                REMINDER_EVENT,
                at=due,
                key=what.lower(),  # "remind me ... to stretch" again moves that reminder
                value={"text": what, "due": due},
            )
            await turn_context.send_activity(f"OK, I will remind you to {what} at {_clock(due)}.")
        elif text.lower() == "reminders":
            waiting = await adapter.scheduled_turns(reference)
            lines = [f"- {t.activity['value']['text']} at {_clock(t.due)}" for t in waiting]
            await turn_context.send_activity("\n".join(lines) or "No reminders waiting.")
        elif (cancel := _CANCEL.match(text)) is not None:
            what = cancel["what"].strip()
            if await adapter.cancel_scheduled_turn(reference=reference, key=what.lower()):
                await turn_context.send_activity(f"Cancelled the reminder to {what}.")
            else:
                await turn_context.send_activity(f"No reminder to {what} is waiting.")
        else:
            await turn_context.send_activity(HELP)

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.name == REMINDER_EVENT and isinstance(activity.value, dict):
            await turn_context.send_activity(f"Reminder: {activity.value.get('text')}")


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


bot = ReminderBot()
