"""Scheduled turns from bot code: what `ConnectorAdapter.schedule_turn` accepts.

A scheduled turn runs later, maybe days later, in whichever worker is alive then: so its
callback must travel by name (a module-level async function or a method of the bot), never a
lambda or a closure kept in one process's memory as `continue_conversation` allows. Or it is
an event (a name, and a JSON value) that the bot handles in `on_event_activity`.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

from shared.protocol.schedule import BadSchedule, due_time
from worker.bot.proactive import callback_name
from worker.bot.types import ProactiveCallback


def due_of(at: datetime | float | None, after: timedelta | float | None) -> float:
    """The due time (epoch seconds) of `at` (an aware datetime, or epoch seconds) or `after`
    (a timedelta, or seconds from now). Raises ValueError."""
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("at= must be an aware datetime (with a tzinfo): whose 5 pm?")
        at = at.timestamp()
    if isinstance(after, timedelta):
        after = after.total_seconds()
    if after is not None and (not isinstance(after, int | float) or not math.isfinite(after)):
        raise ValueError("after= must be a timedelta or a number of seconds")
    if after is not None and after < 0:
        raise ValueError("after= must not be negative")
    try:
        return due_time(time.time(), at=at, after=after)
    except BadSchedule as e:
        raise ValueError(str(e)) from None


def event_or_callback(
    target: str | ProactiveCallback, bot: object
) -> tuple[str | None, str | None]:
    """(event name, None) for a string; (None, callback name) for a callback that travels by
    name. Raises TypeError for a callback that cannot outlive this process."""
    if isinstance(target, str):
        return target, None
    try:
        return None, callback_name(target, bot)
    except TypeError as e:
        raise TypeError(
            f"{e}; a scheduled turn may run after this worker is gone, so its callback must be "
            "a module-level async function or a method of the bot (or schedule an event)"
        ) from None
