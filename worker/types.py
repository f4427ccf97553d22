"""The callable shapes the bot-author API is built from, named once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from worker.turn_context import TurnContext


class Bot(Protocol):
    """Anything with `on_turn(turn_context)`: an ActivityHandler, or your own class."""

    async def on_turn(self, turn_context: TurnContext) -> None: ...


TurnHandler = Callable[["TurnContext"], Awaitable[None]]
"""A coroutine function that handles one turn."""

NextHandler = Callable[[], Awaitable[None]]
"""What middleware calls to run the rest of the turn."""

OnTurnError = Callable[["TurnContext", Exception], Awaitable[None]]
"""Called with the turn's context when the bot raised; see `worker.adapter`."""


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
    consumer: str = ""
    """The consumer that must still own the entry for the commit to happen (fencing)."""
    done: bool = False
