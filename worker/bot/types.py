"""The callable shapes the bot-author API is built from, named once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from shared.activity import ResourceResponse

if TYPE_CHECKING:
    from worker.bot.turn_context import TurnContext


class Bot(Protocol):
    """Anything with `on_turn(turn_context)`: an ActivityHandler, or your own class."""

    async def on_turn(self, turn_context: TurnContext) -> None: ...


TurnHandler = Callable[["TurnContext"], Awaitable[None]]
"""A coroutine function that handles one turn."""

NextHandler = Callable[[], Awaitable[None]]
"""What middleware calls to run the rest of the turn."""

OnTurnError = Callable[["TurnContext", Exception], Awaitable[None]]
"""Called with the turn's context when the bot raised; see `worker.bot.adapter`."""


PENDING_ACK_KEY = "turnstream.PendingAck"
"""turn_state key of the turn's PendingAck."""


@dataclass
class PendingAck:
    """The stream entry a turn came from. A storage that can acknowledge it in the same atomic
    write as the turn's state (RedisStorage) does so and sets `done`; otherwise the worker
    acknowledges it after the turn."""

    stream: str
    group: str
    entry_id: str
    done_key: str
    """The conversation's commit pointer, moved to `entry_id` by the same atomic write."""
    consumer: str
    """The consumer that must still own the entry for the commit to happen (fencing)."""
    sent_key: str
    """Where the replies sent for this entry are recorded; the commit deletes it."""
    replies: list[ResourceResponse] = field(default_factory=list)
    """Replies earlier attempts of this entry already sent, in order: the n-th reply of a retry
    gets the n-th of these back instead of being sent a second time."""
    on_sent: Callable[[list[ResourceResponse]], None] | None = None
    """Called with `replies` each time one more went out, to record them
    (worker.runtime.delivery.send_journal)."""
    before_send: Callable[[], Awaitable[None]] | None = None
    """Awaited before each reply goes out; raises TakenOver when this worker lost the entry
    (it was paused past the claim timeout), so a worker waking up does not answer for a turn
    that another worker took over."""
    done: bool = False
    bot_error: bool = False
    """Set when the bot raised and on_turn_error ended the turn (the `failed` outcome)."""
