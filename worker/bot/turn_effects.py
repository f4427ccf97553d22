"""What a turn did outside itself, by position, so that a turn that runs again does it once.

A turn may run more than once: again in this process when its state save conflicts, or in
another worker when this one stopped before the turn committed. Its replies are kept in order
(`TurnEffects.done`; the send journal records the list under the stream entry, and a later
delivery loads it), and a later run's n-th reply returns the n-th recorded response instead of
being sent again.

Replies are not all a turn does that must not happen twice: it may queue a proactive turn,
schedule one, start a conversation or a Teams channel thread, send a Teams batch or a meeting
notification. Those take a position in the same
list (`once`), their result kept as the position's id, so that a run again gets the earlier
run's result back: one reminder, one thread, one message per member, however often the turn ran.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import orjson

from shared.schema.activity import Model, ResourceResponse
from worker.bot.turn_commit import TurnCommit

M = TypeVar("M", bound=Model)


@dataclass
class TurnEffects:
    """The replies and other effects of one inbound activity across its runs: the i-th effect
    of a run again returns the i-th of an earlier one. Runs in this process (state conflicts)
    share the object; other deliveries of the stream entry load `done` from the entry's record
    (`TurnCommit.replies`)."""

    done: list[ResourceResponse] = field(default_factory=list)
    position: int = 0
    commit: TurnCommit | None = None
    loaded: int = 0
    """How many of `done` an earlier delivery recorded (another process, maybe stopped)."""

    @classmethod
    def of(cls, commit: TurnCommit | None) -> TurnEffects:
        if commit is None:
            return cls()
        return cls(commit.replies, 0, commit, len(commit.replies))

    def recorded(self, *, kept_in_memory: bool = False) -> ResourceResponse | None:
        """What an earlier run did at this position, None if nothing. `kept_in_memory`: the
        effect lives in this process's memory (a proactive callback that is a closure), so one
        recorded by another delivery is none: that process may be gone with it."""
        if self.position >= len(self.done):
            return None
        if kept_in_memory and self.position < self.loaded:
            return None
        return self.done[self.position]

    def did(self, response: ResourceResponse) -> None:
        """The effect at this position happened (again, if `recorded` said it had not):
        record it, fenced by the turn's entry, and move to the next position."""
        if self.position < len(self.done):
            self.done[self.position] = response
        else:
            self.done.append(response)
        if self.commit is not None:
            self.commit.sent(self.done)
        self.position += 1


running: contextvars.ContextVar[TurnEffects | None] = contextvars.ContextVar(
    "turnstream_turn_effects", default=None
)
"""The effects of the turn running in this task (set by the adapter for the turn's duration):
`continue_conversation` and `TeamsInfo` take no adapter turn object of their own."""


async def once(perform: Callable[[], Awaitable[str]], *, kept_in_memory: bool = False) -> str:
    """`await perform()` unless an earlier run of the running turn did it at this position:
    then its result. Outside a turn, or once the turn committed (its record is gone), it is
    simply performed. `perform` returns the effect's result as a string (an id, or JSON)."""
    effects = running.get()
    if effects is None or (effects.commit is not None and effects.commit.committed):
        return await perform()
    earlier = effects.recorded(kept_in_memory=kept_in_memory)
    if earlier is not None:
        effects.position += 1
        return earlier.id or ""
    result = await perform()
    effects.did(ResourceResponse(id=result))
    return result


async def once_as(model: type[M], perform: Callable[[], Awaitable[M]]) -> M:
    """`once` for an effect whose result is a schema object (the conversation a POST
    /v3/conversations started, a meeting notification's answer): kept as its JSON."""

    async def encoded() -> str:
        return orjson.dumps((await perform()).to_dict()).decode()

    return model.from_dict(orjson.loads(await once(encoded)))
