"""A stand-in for the pause a stream takes between two sends, so tests of streaming never
sleep real seconds: it records each pause asked for and returns at once, or, while held, waits
for the test to let it go (a chunk still "waiting for its turn")."""

from __future__ import annotations

import asyncio


class PaceClock:
    """Pass `clock.sleep` as a StreamingResponse's `sleep`."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        """Every pause asked for, in seconds, in order."""
        self._gate: asyncio.Event | None = None
        self.waiting = asyncio.Event()
        """Set while a pause is being held."""

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        gate = self._gate
        if gate is None:
            await asyncio.sleep(0)
            return
        self.waiting.set()
        await gate.wait()

    def hold(self) -> None:
        """Pauses from now on wait for `release`."""
        self._gate = asyncio.Event()
        self.waiting.clear()

    def release(self) -> None:
        """Let the held pause end; later pauses return at once again."""
        gate, self._gate = self._gate, None
        self.waiting.clear()
        if gate is not None:
            gate.set()
