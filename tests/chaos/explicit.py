"""The chaos run with a bot that saves its own state (tests/chaos/explicit_bot.py) and stops
its own worker at random points of its turns, besides every fault of the usual run:
`python -m tests.chaos.explicit [--seed N] [--freeze-share 0.03] [--workdir DIR]`.

A turn that stops itself is resumed after one to three claim timeouts, by then taken over by
another worker: the fence must keep everything it does after it wakes up out of Redis and off
the channel. The checker is the usual one (lost, duplicated or reordered counts, state, dead
letters, duplicate replies attributed to a kill or a stop), plus the user state's `seen`, which
must equal the conversation's count: the bot's first save.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from shared.protocol import codec
from shared.redis.connection import Redis
from tests.chaos.explicit_bot import FREEZE_LOCK
from tests.chaos.run import CHANNEL, PROFILES, ChaosRun, Report

BOT = "tests.chaos.explicit_bot:bot"


class ExplicitSaveChaosRun(ChaosRun):
    def __init__(
        self, profile_name: str, workdir: Path, seed: int | None, freeze_share: float
    ) -> None:
        super().__init__(profile_name, workdir, seed)
        self.freeze_share = freeze_share
        self.self_stops: list[str] = []
        self.seen_twice = 0
        """Messages counted twice in user state (its save came before a stop or kill)."""

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "TURNSTREAM_CHAOS_FREEZE_SHARE": str(self.freeze_share)}

    async def _start_worker(self) -> asyncio.subprocess.Process:
        worker = await self._spawn("-m", "worker", "--bot", BOT, log_name="worker")
        self.workers.append(worker)
        return worker

    async def _inject(self, redis: Redis) -> None:
        thawing = asyncio.create_task(self._thaw_self_stops(redis))
        try:
            await super()._inject(redis)
        finally:
            thawing.cancel()

    async def _thaw_self_stops(self, redis: Redis) -> None:
        """Resume each worker its bot stopped, one to three claim timeouts after it stopped."""
        lock = f"{self.keys.prefix}:{FREEZE_LOCK}"
        while True:
            await asyncio.sleep(0.02)
            with contextlib.suppress(RedisError, OSError):
                owner: Any = await redis.get(lock)
                if owner is None:
                    continue
                pid_text, point = owner.decode().split(" ", 1)
                victim = next((w for w in self.workers if w.pid == int(pid_text)), None)
                if victim is None or victim.returncode is not None:
                    await redis.delete(lock)  # killed while stopped: let another stop itself
                    continue
                if not _stopped(victim.pid):
                    continue
                stopped_at = time.monotonic()
                self.faults.setdefault(victim.pid, []).append(stopped_at)
                self.report.stops += 1
                self.self_stops.append(point)
                held = await self._held_by(redis, victim.pid)
                self._event(f"worker {victim.pid} stopped itself at {point}, {len(held)} held")
                if held:
                    self._watch_takeover(redis, victim.pid, held, stopped_at)
                await asyncio.sleep(self.random.uniform(1, 3) * self.profile.claim_idle)
                with contextlib.suppress(ProcessLookupError):
                    victim.send_signal(signal.SIGCONT)
                await redis.delete(lock)

    async def _check(self, redis: Redis) -> None:
        await super()._check(redis)
        self._explain_skipped_counts()
        for conversation, n in self._expected().items():
            key = self.keys.state(f"{CHANNEL}/users/{conversation}-user")
            with contextlib.suppress(RedisError, OSError):
                data: Any = await redis.hget(key, "d")
                seen = codec.unpack(data).get("seen", 0) if data else 0
                if seen < n:
                    self.report.problems.append(f"{conversation}: user state lost {n - seen}")
                self.seen_twice += max(0, seen - n)
        # A turn's explicit saves are held until its commit (worker.bot.state.save_deferred):
        # a turn cut short between its two saves leaves neither behind, so the user state's
        # count is applied exactly once per message, whatever was killed or stopped.
        if self.seen_twice:
            self.report.problems.append(f"user state applied twice {self.seen_twice} times")

    def _explain_skipped_counts(self) -> None:
        """A count missing from the replies, the state one higher: a turn saved the count and
        its worker died or stalled before committing; the worker that took the turn over
        counted again, and its reply got the first one's recorded id (not sent again). Name
        the worker that sent the reply before the gap and its fault, if it had one."""
        for conversation, n in self._expected().items():
            replies = [r for r in self.connector.replies if r.conversation == conversation]
            values = {int(r.text) for r in replies if r.text.isdigit()}
            for missing in sorted(set(range(1, n + 1)) - values):
                before = [r for r in replies if r.text == str(missing - 1)]
                if not before:
                    continue
                reply = before[0]
                faults = self.faults.get(reply.sender or 0, [])
                fault = next((t for t in faults if t >= reply.arrived_at - 1), None)
                after = f"{fault - reply.at:.2f} s after its reply" if fault else "no fault"
                self._event(
                    f"count {missing} skipped in {conversation}: the turn before it was sent "
                    f"by worker {reply.sender}, killed or stopped {after}",
                    reply.at,
                )


async def run(
    profile: str, workdir: Path | None, seed: int | None, freeze_share: float
) -> tuple[Report, list[str]]:
    async def go(directory: Path) -> tuple[Report, list[str]]:
        chaos = ExplicitSaveChaosRun(profile, directory, seed, freeze_share)
        return await chaos.run(), chaos.self_stops

    if workdir is not None:
        return await go(workdir)
    with tempfile.TemporaryDirectory(prefix="turnstream-chaos-") as scratch:
        return await go(Path(scratch))


def _stopped(pid: int | None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


async def run_explicit(profile: str, seed: int | None = None) -> tuple[Report, list[str], int]:
    """The CI entry point: report, where the bot stopped itself, user state applied twice."""
    with tempfile.TemporaryDirectory(prefix="turnstream-chaos-") as scratch:
        chaos = ExplicitSaveChaosRun(profile, Path(scratch), seed, freeze_share=0.03)
        return await chaos.run(), chaos.self_stops, chaos.seen_twice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.explicit", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--freeze-share", type=float, default=0.03)
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs and data here")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    report, stops = asyncio.run(run(args.profile, args.workdir, args.seed, args.freeze_share))
    print(report.render())
    print(f"  self-stops: {stops}")
    if report.logs:
        print(report.logs)
    if args.json:
        args.json.write_text(json.dumps(dataclasses.asdict(report), indent=1))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
