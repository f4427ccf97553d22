"""One chaos run: real valkey (AOF, fsync always), a gateway and worker processes, a load driver
posting counter messages through the gateway, a fault injector, and a checker.

Faults: kill -9 of a worker (restarted at once), SIGSTOP of a worker past its claim timeout,
kill -9 and restart of the server, the server stalled (SIGSTOP) past the Redis timeout and the
claim timeout, a connector answering 429/503/slowly, re-POSTs of activities
with the same id (a channel's resend), poison turns. The checker compares what the gateway
acknowledged with what the connector received and with the state in Redis.

Every fault is scheduled by progress, not by the clock: it is due once the connector has seen a
share of the reply requests the run expects. A slow or busy machine reaches each point later,
and gets each fault there all the same; a fault scheduled at a time can find nothing to hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import math
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import orjson
from redis.exceptions import RedisError

from shared.protocol import codec
from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace
from shared.redis.connection import Redis
from tests.chaos.bot import POISON
from tests.chaos.connector import Fault, FaultWindow, FaultyConnector, Reply
from turnstream.embedded import EmbeddedRedis, die_with_parent, free_port

CONNECTOR_FAULTS = [
    (Fault.THROTTLE, 0.15, 0.30, 3),
    (Fault.UNAVAILABLE, 0.60, 0.70, 3),
    (Fault.SLOW, 0.70, 0.80, 4),
]
"""(fault, from, to, every): `fault` for every `every`-th reply request from the share `from` of
the expected replies to the share `to` (as many times as fit in between)."""
STOP_AT = 0.35
RESTART_AT = 0.5
STALL_AT = 0.85
"""When the worker is stopped, the server restarted and stalled: shares of the expected
replies."""
STALL_SECONDS = 2.5
"""How long the server stalls: past TURNSTREAM_REDIS_TIMEOUT_SECONDS (1 s), so commits time out
and may land after their turn was retried (worker.runtime.delivery.attempts), and past the claim
timeout, so held entries go idle long enough to be taken over."""

CHANNEL = "chaos"
RECORD_WINDOW_SECONDS = 0.3
"""How long after the connector's answer a reply may still be unrecorded: the record's 2 ms
delay and a round trip, on a busy machine (worker.runtime.delivery.send_journal)."""
RECONNECT_SECONDS = 2.0
"""How long workers may take to reach a restarted server (their backoff)."""
LOOP_LAG_SECONDS = 1.0
"""How much later than its worker sent it the connector, sharing this busy event loop with the
driver and the fault injector, may see a request (a kill it ran meanwhile comes first)."""
BOT = "tests.chaos.bot:bot"


@dataclass(frozen=True)
class Profile:
    conversations: int
    messages: int
    """Per conversation, poison included."""
    rate: float
    """Messages per second per conversation."""
    workers: int
    kills: int
    """kill -9s of a worker, spread evenly over the load (by replies, not by time)."""
    claim_idle: float
    max_deliveries: int
    resend_share: float
    resend_within: float
    poison_share: float
    settle_within: float
    """Seconds after the last message for every reply to arrive."""

    @property
    def load_seconds(self) -> float:
        return self.messages / self.rate


PROFILES = {
    # CI: ~20 s of load, ~40 s in all.
    "ci": Profile(
        conversations=8,
        messages=40,
        rate=2.0,
        workers=3,
        kills=8,
        claim_idle=1.5,
        max_deliveries=6,
        resend_share=0.05,
        resend_within=10.0,
        poison_share=0.001,
        settle_within=60.0,
    ),
    # The soak: ~5 minutes of load.
    "soak": Profile(
        conversations=40,
        messages=600,
        rate=2.0,
        workers=4,
        kills=100,
        claim_idle=1.5,
        max_deliveries=6,
        resend_share=0.05,
        resend_within=20.0,
        poison_share=0.001,
        settle_within=120.0,
    ),
}


@dataclass
class Report:
    profile: str
    conversations: int
    messages: int
    acknowledged: int = 0
    not_acknowledged: int = 0
    resent: int = 0
    poison: int = 0
    lost: int = 0
    duplicate_replies: int = 0
    duplicate_replies_at_a_kill: int = 0
    """Duplicates whose earlier copy was in flight, or not yet recorded, when the worker that
    sent it was killed or stopped: the residual window (README, effectively once)."""
    duplicate_state_commits: int = 0
    order_violations: int = 0
    state_mismatches: int = 0
    dead_letters: int = 0
    dead_letters_not_poison: int = 0
    poison_not_dead_lettered: int = 0
    kills: int = 0
    stops: int = 0
    server_restarts: int = 0
    server_stalls: int = 0
    connector_faults: dict[str, int] = field(default_factory=dict)
    takeovers: int = 0
    takeover_p50_s: float = 0.0
    takeover_p99_s: float = 0.0
    takeover_max_s: float = 0.0
    duration_s: float = 0.0
    events: list[str] = field(default_factory=list)
    """Faults and duplicate replies with their times (s after the start), to explain a run."""
    problems: list[str] = field(default_factory=list)
    logs: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"chaos run '{self.profile}': {self.conversations} conversations x "
                 f"{self.messages} messages in {self.duration_s:.1f} s"]  # fmt: skip
        for key, value in dataclasses.asdict(self).items():
            if key not in {"profile", "conversations", "messages", "problems", "logs", "events"}:
                lines.append(f"  {key:<28} {value}")
        lines += [f"  event {event}" for event in self.events]
        lines += [f"  PROBLEM: {problem}" for problem in self.problems]
        return "\n".join(lines)


@dataclass
class Sent:
    conversation: str
    activity_id: str
    text: str
    acknowledged: bool = False


class ChaosRun:
    def __init__(self, profile_name: str, workdir: Path, seed: int | None = None) -> None:
        self.profile_name = profile_name
        self.profile = PROFILES[profile_name]
        self.workdir = workdir
        self.random = random.Random(seed)
        self.keys = Keyspace(f"chaos{os.getpid()}", 4)
        self.server = EmbeddedRedis(
            workdir / "valkey", port=free_port(), extra_args=["--appendfsync", "always"]
        )
        self.workers: list[asyncio.subprocess.Process] = []
        self.gateway: asyncio.subprocess.Process | None = None
        self.gateway_url = ""
        self.sent: list[Sent] = []
        self.report = Report(profile_name, self.profile.conversations, self.profile.messages)
        self.takeover_delays: list[float] = []
        self.faults: dict[int, list[float]] = {}
        """When each worker process was killed or stopped (pid: monotonic times; a worker
        stopped and thawed may be killed later)."""
        self.server_away: tuple[float, float] | None = None
        """From the server's kill until it answered again (plus RECONNECT_SECONDS)."""
        self.server_stalled: tuple[float, float] | None = None
        """From the server's stop until it was resumed."""
        self._started = 0.0
        self._log_index = 0
        self._watchers: list[asyncio.Task[None]] = []
        self._left_entries = False
        """Whether a kill or the stop has left entries for the others to take over."""
        self._thawed = asyncio.Event()
        self._thawed.set()  # nothing is stopped yet
        poison = max(1, math.floor(self.total * self.profile.poison_share))
        self.expected_replies = self.total - poison
        self.connector = FaultyConnector(connector_windows(self.expected_replies))

    @property
    def total(self) -> int:
        return self.profile.conversations * self.profile.messages

    # -- processes ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "REDIS_URL": self.server.url,
            "TURNSTREAM_KEY_PREFIX": self.keys.prefix,
            "TURNSTREAM_SHARDS": str(self.keys.shards),
            "TURNSTREAM_CLAIM_IDLE_SECONDS": str(self.profile.claim_idle),
            "TURNSTREAM_MAX_DELIVERIES": str(self.profile.max_deliveries),
            "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",
            "TURNSTREAM_LOG_FORMAT": "json",
            "TURNSTREAM_LOG_LEVEL": "INFO",
        }

    async def _spawn(self, *args: str, log_name: str) -> asyncio.subprocess.Process:
        with self._new_log(log_name) as log:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                env=self._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=die_with_parent,
            )

    def _new_log(self, name: str) -> BinaryIO:
        self._log_index += 1
        return open(self.workdir / f"{self._log_index:03d}-{name}.log", "wb")

    async def _start_worker(self) -> asyncio.subprocess.Process:
        worker = await self._spawn("-m", "worker", "--bot", BOT, log_name="worker")
        self.workers.append(worker)
        return worker

    async def _start_gateway(self) -> None:
        port = free_port()
        self.gateway = await self._spawn(
            "-m", "turnstream", "gateway", "--port", str(port), log_name="gateway"
        )
        self.gateway_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a process start, on a machine that may be busy
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.gateway_url}/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise RuntimeError("the gateway did not become ready")

    def _live_workers(self) -> list[asyncio.subprocess.Process]:
        return [w for w in self.workers if w.returncode is None]

    async def _stop_all(self) -> None:
        for process in [*self.workers, self.gateway]:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
                    process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.gateway]:
            if process is None:
                continue
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self.server.stop()

    # -- load --------------------------------------------------------------------------------

    def _plan(self, service_url: str) -> list[list[dict[str, Any]]]:
        poison = set(self.random.sample(range(self.total), self.total - self.expected_replies))
        plan = []
        for c in range(self.profile.conversations):
            conversation = f"conv-{c}"
            activities = []
            for n in range(self.profile.messages):
                index = c * self.profile.messages + n
                text = POISON if index in poison else f"message {n}"
                activity_id = f"{conversation}-{n}"
                self.sent.append(Sent(conversation, activity_id, text))
                activities.append(
                    {
                        "type": "message",
                        "id": activity_id,
                        "channelId": CHANNEL,
                        "serviceUrl": service_url,
                        "conversation": {"id": conversation},
                        "from": {"id": f"{conversation}-user"},
                        "recipient": {"id": "bot"},
                        "text": text,
                    }
                )
            plan.append(activities)
        return plan

    async def _post(self, http: aiohttp.ClientSession, activity: dict[str, Any]) -> bool:
        """POST as a channel would, retrying 503s and refused connections for a while."""
        body = orjson.dumps(activity)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                async with http.post(
                    f"{self.gateway_url}/api/messages",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as response:
                    if response.status in (200, 202):
                        return True
                    if response.status != 503:
                        raise RuntimeError(f"gateway answered {response.status}")
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
        return False

    async def _talk(self, http: aiohttp.ClientSession, activities: list[dict[str, Any]]) -> None:
        resends = []
        for activity in activities:
            ok = await self._post(http, activity)
            for sent in self.sent:
                if sent.activity_id == activity["id"]:
                    sent.acknowledged = ok
            if self.random.random() < self.profile.resend_share:
                delay = self.random.uniform(0, self.profile.resend_within)
                resends.append(asyncio.create_task(self._resend(http, activity, delay)))
                self.report.resent += 1
            await asyncio.sleep(1 / self.profile.rate)
        await asyncio.gather(*resends)

    async def _resend(
        self, http: aiohttp.ClientSession, activity: dict[str, Any], delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await self._post(http, activity)

    # -- faults ------------------------------------------------------------------------------

    def _schedule(self) -> list[tuple[int, str]]:
        """(reply requests the connector has seen, fault due then), in order."""
        kills = self.profile.kills
        shares = [((n + 0.5) / kills, "kill") for n in range(kills)]
        shares += [(STOP_AT, "stop"), (RESTART_AT, "restart"), (STALL_AT, "stall")]
        return sorted((math.floor(share * self.expected_replies), what) for share, what in shares)

    async def _inject(self, redis: Redis) -> None:
        """Each fault once the connector has seen its share of the expected replies (every one
        of them comes: a slow machine reaches each point later, and gets its fault there), and
        then up to one message period later, at random: the conversations post in step, so
        replies come in bursts, and a fault in step with the request that reached the count
        would land every time while a burst's replies are in flight (each a duplicate)."""
        schedule = self._schedule()
        for n, (at, what) in enumerate(schedule):
            await self.connector.reached(at)
            await asyncio.sleep(self.random.uniform(0, 1 / self.profile.rate))
            # A victim holding entries is worth waiting for, until the next fault is due.
            until = schedule[n + 1][0] if n + 1 < len(schedule) else self.expected_replies
            if what == "stop":
                await self._freeze_one(redis, until)
            elif what == "restart":
                await self._restart_server()
            elif what == "stall":
                await self._stall_server()
            else:
                await self._kill_one(redis, until)

    async def _victim(self, redis: Redis, until: int) -> asyncio.subprocess.Process:
        """A live worker, not the stopped one, at random. Until a fault has left entries for
        the others to take over (else `takeovers > 0` rests on luck), one that holds entries,
        waited for until the connector has seen `until` reply requests. Only until then: a
        victim caught mid-turn is likelier to have a reply in flight, so to send a duplicate."""
        while True:
            candidates = [w for w in self._live_workers() if w is not self._frozen]
            if self._left_entries:
                return self.random.choice(candidates)
            holding = await self._holding(redis, candidates)
            if holding or self.connector.requests >= until:
                return self.random.choice(holding or candidates)
            await asyncio.sleep(0.05)

    async def _holding(
        self, redis: Redis, workers: list[asyncio.subprocess.Process]
    ) -> list[asyncio.subprocess.Process]:
        """Those of `workers` with entries pending, asked in one round trip (the fault follows
        at once: a worker may finish its turns in between, but seldom)."""
        owners: set[str] = set()
        with contextlib.suppress(RedisError, OSError):
            async with redis.pipeline(transaction=False) as pipe:
                for stream in self.keys.streams():
                    pipe.xpending_range(stream, CONSUMER_GROUP, "-", "+", 10_000)
                answers: Any = await pipe.execute()
            owners = {row["consumer"].decode() for rows in answers for row in rows}
        host = socket.gethostname()
        return [w for w in workers if any(o.startswith(f"{host}-{w.pid}-") for o in owners)]

    async def _kill_one(self, redis: Redis, until: int) -> None:
        victim = await self._victim(redis, until)
        victim.kill()
        killed_at = time.monotonic()
        self.faults.setdefault(victim.pid, []).append(killed_at)
        await victim.wait()
        held = await self._held_by(redis, victim.pid)  # dead: what it left is settled
        self._event(
            f"worker {victim.pid} killed holding {len(held)} entries "
            f"(reply request {self.connector.requests})",
            killed_at,
        )
        self.report.kills += 1
        await self._start_worker()
        if held:
            self._left_entries = True
            self._watch_takeover(redis, victim.pid, held, killed_at)

    _frozen: asyncio.subprocess.Process | None = None

    async def _freeze_one(self, redis: Redis, until: int) -> None:
        victim = await self._victim(redis, until)
        self._frozen = victim
        self._thawed.clear()
        victim.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        self.faults.setdefault(victim.pid, []).append(frozen_at)
        held = await self._held_by(redis, victim.pid)
        self._event(
            f"worker {victim.pid} stopped holding {len(held)} entries "
            f"(reply request {self.connector.requests})",
            frozen_at,
        )
        self.report.stops += 1
        if held:
            self._left_entries = True
            self._watch_takeover(redis, victim.pid, held, frozen_at)

        async def thaw() -> None:
            # Past its claim timeout, and until what it held was taken over: it wakes up to
            # find its turns gone, on a slow machine too.
            await asyncio.sleep(3 * self.profile.claim_idle)
            deadline = frozen_at + 60
            while time.monotonic() < deadline:
                if not await self._held_by(redis, victim.pid) and await self._reachable(redis):
                    break
                await asyncio.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                victim.send_signal(signal.SIGCONT)
            self._event(f"worker {victim.pid} thawed")
            self._frozen = None
            self._thawed.set()

        self._watchers.append(asyncio.create_task(thaw()))

    def _event(self, what: str, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        self.report.events.append(f"{at - self._started:7.2f} {what}")

    async def _restart_server(self) -> None:
        self._event(f"server killed (reply request {self.connector.requests})")
        killed_at = time.monotonic()
        pid = self.server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(1.0)
        self.server.stop()
        await asyncio.to_thread(self.server.start)
        self.server_away = (killed_at, time.monotonic() + RECONNECT_SECONDS)
        self.report.server_restarts += 1

    async def _stall_server(self) -> None:
        pid = self.server.pid
        assert pid is not None
        self._event(f"server stalled (reply request {self.connector.requests})")
        stalled_at = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(STALL_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.server_stalled = (stalled_at, time.monotonic())
        self._event("server resumed")
        self.report.server_stalls += 1

    # -- takeover timing ---------------------------------------------------------------------

    async def _held_by(self, redis: Redis, pid: int | None) -> set[tuple[str, str]]:
        """Entries pending with the consumer of process `pid`."""
        prefix = f"{socket.gethostname()}-{pid}-"
        held = set()
        with contextlib.suppress(RedisError, OSError):
            for stream in self.keys.streams():
                rows: Any = await redis.xpending_range(stream, CONSUMER_GROUP, "-", "+", 10_000)
                for row in rows:
                    consumer = row["consumer"].decode()
                    if consumer.startswith(prefix):
                        held.add((stream, row["message_id"].decode()))
        return held

    def _watch_takeover(
        self, redis: Redis, pid: int | None, held: set[tuple[str, str]], since: float
    ) -> None:
        async def watch() -> None:
            waiting = set(held)
            deadline = since + 60
            while waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                still = await self._held_by(redis, pid)
                if not still and not await self._reachable(redis):
                    continue
                now = time.monotonic()
                self.takeover_delays.extend(now - since for _ in waiting - still)
                waiting &= still
            self.takeover_delays.extend(math.inf for _ in waiting)

        self._watchers.append(asyncio.create_task(watch()))

    @staticmethod
    async def _reachable(redis: Redis) -> bool:
        try:
            return bool(await redis.ping())
        except (RedisError, OSError):
            return False

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> Report:
        self.server.start()
        runner = None
        redis = Redis.from_url(self.server.url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            runner, service_url = await self.connector.serve()
            await self._start_gateway()
            for _ in range(self.profile.workers):
                await self._start_worker()
            plan = self._plan(service_url)
            self._started = time.monotonic()
            async with aiohttp.ClientSession() as http:
                injector = asyncio.create_task(self._inject(redis))
                await asyncio.gather(*(self._talk(http, activities) for activities in plan))
                await self._injected(injector)
            await self._settle(redis)
            await asyncio.gather(*self._watchers)
            await self._check(redis)
        finally:
            for task in self._watchers:
                task.cancel()
            self.report.duration_s = time.monotonic() - self._started if self._started else 0
            await self._stop_all()
            await redis.aclose()
            if runner is not None:
                await runner.cleanup()
        if not self.report.ok:
            self.report.logs = self._log_tails()
        return self.report

    def _expected(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sent in self.sent:
            if sent.text != POISON:
                counts[sent.conversation] = counts.get(sent.conversation, 0) + 1
        return counts

    async def _injected(self, injector: asyncio.Task[None]) -> None:
        """Wait for the last fault: due before the last reply, so it comes unless the run
        stalled (then the checker reports what is missing)."""
        try:
            async with asyncio.timeout(self.profile.settle_within):
                await injector
        except TimeoutError:
            self.report.problems.append(
                f"faults not all injected: the connector saw {self.connector.requests} reply "
                f"requests of the {self.expected_replies} expected"
            )

    async def _settle(self, redis: Redis) -> None:
        """Wait until every counter reply arrived, the poison is dead-lettered, the stopped
        worker is awake again and nothing is pending (no turn left that could still reply)."""
        expected = self._expected()
        poison = sum(1 for s in self.sent if s.text == POISON)
        deadline = time.monotonic() + self.profile.settle_within
        while time.monotonic() < deadline:
            got: dict[str, set[str]] = {}
            for reply in self.connector.replies:
                got.setdefault(reply.conversation, set()).add(reply.text)
            complete = all(len(got.get(c, ())) >= n for c, n in expected.items())
            if (
                complete
                and self._thawed.is_set()
                and len(await self._dead_letters(redis)) >= poison
                and await self._nothing_pending(redis)
            ):
                await asyncio.sleep(2)  # a thawed worker's late duplicates would show up here
                return
            await asyncio.sleep(0.2)

    async def _nothing_pending(self, redis: Redis) -> bool:
        try:
            for stream in self.keys.streams():
                summary: Any = await redis.xpending(stream, CONSUMER_GROUP)
                if summary["pending"]:
                    return False
        except (RedisError, OSError):
            return False
        return True

    async def _dead_letters(self, redis: Redis) -> list[str]:
        ids = []
        with contextlib.suppress(RedisError, OSError):
            for shard in range(self.keys.shards):
                rows: Any = await redis.xrange(self.keys.dead_letters(shard))
                for _, fields in rows:
                    envelope = Envelope.decode(fields[ENVELOPE_FIELD.encode()])
                    ids.append(str(envelope.activity()["id"]))
        return ids

    async def _check(self, redis: Redis) -> None:
        report = self.report
        report.acknowledged = sum(1 for s in self.sent if s.acknowledged)
        report.not_acknowledged = len(self.sent) - report.acknowledged
        report.poison = sum(1 for s in self.sent if s.text == POISON)
        report.connector_faults = {f.name: n for f, n in self.connector.faults.items()}
        planned = {w.fault.name: w.times for w in self.connector.windows}
        if report.connector_faults != planned:
            report.problems.append(f"connector faults {report.connector_faults}, planned {planned}")
        expected = self._expected()
        by_conversation: dict[str, list[str]] = {c: [] for c in expected}
        first: dict[tuple[str, str], Reply] = {}
        latest: dict[tuple[str, str], Reply] = {}
        for reply in self.connector.replies:
            by_conversation.setdefault(reply.conversation, []).append(reply.text)
            earlier = first.setdefault((reply.conversation, reply.text), reply)
            previous = latest.get((reply.conversation, reply.text))
            latest[(reply.conversation, reply.text)] = reply
            if previous is not None:
                # Either copy may be the one a dead worker sent: a request in flight at a kill
                # can be answered after the copy the next worker sent.
                at_a_kill = self._unrecorded_at_a_fault(
                    previous, again=reply
                ) or self._unrecorded_at_a_fault(reply, again=None)
                if at_a_kill:
                    report.duplicate_replies_at_a_kill += 1
                self._event(
                    f"duplicate reply {reply.text!r} to {reply.reply_to} (first at "
                    f"{earlier.at - self._started:.2f} to {earlier.reply_to}; from worker "
                    f"{reply.sender} after {previous.sender}"
                    f"{', one killed or stopped before recording it' if at_a_kill else ''})",
                    reply.at,
                )
        report.events.sort()
        for conversation, n in expected.items():
            texts = by_conversation[conversation]
            values = [int(t) for t in texts if t.isdigit()]
            wanted = set(range(1, n + 1))
            report.lost += len(wanted - set(values))
            report.duplicate_state_commits += len(set(values) - wanted)
            report.duplicate_replies += len(values) - len(set(values))
            firsts = list(dict.fromkeys(values))
            report.order_violations += sum(1 for a, b in itertools.pairwise(firsts) if b < a)
            stored = await self._stored_count(redis, conversation)
            if stored != n:
                report.state_mismatches += 1
                report.problems.append(f"{conversation}: state holds {stored}, expected {n}")
        dead = await self._dead_letters(redis)
        poison_ids = {s.activity_id for s in self.sent if s.text == POISON}
        report.dead_letters = len(dead)
        report.dead_letters_not_poison = len(set(dead) - poison_ids)
        report.poison_not_dead_lettered = len(poison_ids - set(dead))
        delays = sorted(self.takeover_delays)
        report.takeovers = len(delays)
        if delays:
            report.takeover_p50_s = round(statistics.median(delays), 2)
            report.takeover_p99_s = round(delays[min(len(delays) - 1, int(0.99 * len(delays)))], 2)
            report.takeover_max_s = round(delays[-1], 2)
        checks = {
            "activities not acknowledged by the gateway": report.not_acknowledged,
            "lost replies": report.lost,
            "duplicate state commits": report.duplicate_state_commits,
            "order violations": report.order_violations,
            "dead letters that are not poison": report.dead_letters_not_poison,
            "poison not dead-lettered": report.poison_not_dead_lettered,
        }
        report.problems += [f"{what}: {n}" for what, n in checks.items() if n]
        # Effectively once leaves one window: a worker killed between the connector's answer
        # and its record of the reply. Up to one duplicate per fault passes; beyond that, only
        # duplicates every one of which such a window explains (slow answers widen it).
        unexplained = report.duplicate_replies - report.duplicate_replies_at_a_kill
        faults = report.kills + report.stops + report.server_stalls
        if report.duplicate_replies > faults and unexplained > 0:
            report.problems.append(
                f"{report.duplicate_replies} duplicate replies for {faults} kills, stops and "
                f"stalls, {unexplained} of them not at a kill, stop or stall"
            )
        if report.takeover_p99_s > 10:
            report.problems.append(f"takeover p99 {report.takeover_p99_s} s > 10 s")

    def _unrecorded_at_a_fault(self, reply: Reply, again: Reply | None) -> bool:
        """Whether the worker that sent `reply` was killed or stopped while it was in flight
        or before it could record it: RECORD_WINDOW_SECONDS after the answer, or, for an answer
        while the server was away, any time before the reply came `again` (a record that could
        not be written waits for the turn's retry to commit). Or whether the server stalled
        then: no worker could record it until the stall ended, and the entries held went idle
        long enough to be taken over."""
        faults = self.faults.get(reply.sender, []) if reply.sender is not None else []
        recorded_by = reply.at + RECORD_WINDOW_SECONDS
        away = self.server_away
        if again is not None and away is not None and away[0] <= reply.at <= away[1]:
            recorded_by = again.arrived_at
        stalled = self.server_stalled
        if stalled is not None and stalled[0] <= recorded_by and reply.arrived_at <= stalled[1]:
            return True
        return any(reply.arrived_at - LOOP_LAG_SECONDS <= t <= recorded_by for t in faults)

    async def _stored_count(self, redis: Redis, conversation: str) -> int | None:
        key = self.keys.state(f"{CHANNEL}/conversations/{conversation}")
        try:
            data: Any = await redis.hget(key, "d")
        except (RedisError, OSError):
            return None
        if data is None:
            return 0
        return _find_count(codec.unpack(data))

    def _log_tails(self) -> str:
        tails = []
        for path in sorted(self.workdir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            interesting = [
                line for line in lines if '"WARNING"' in line or '"ERROR"' in line
            ] or lines
            tails.append(f"--- {path.name}\n" + "\n".join(interesting[-15:]))
        return "\n".join(tails)


def connector_windows(expected_replies: int) -> list[FaultWindow]:
    """CONNECTOR_FAULTS for a run that expects `expected_replies`: each window closes before the
    next opens, and the last before the last reply, so each is served in full."""
    windows = []
    for fault, start, end, every in CONNECTOR_FAULTS:
        after = math.floor(start * expected_replies)
        times = max(1, math.floor((end - start) * expected_replies / every))
        windows.append(FaultWindow(fault, after, every, times))
    for window, following in itertools.pairwise(windows):
        assert window.last <= following.after, (window, following)
    assert windows[-1].last <= expected_replies, windows[-1]
    return windows


def _find_count(document: Any) -> int | None:
    """The counter's `count` property, wherever the state layout nests it."""
    if isinstance(document, dict):
        if isinstance(document.get("count"), int):
            return int(document["count"])
        for value in document.values():
            found = _find_count(value)
            if found is not None:
                return found
    return None


async def run_chaos(profile: str, workdir: Path | None = None, seed: int | None = None) -> Report:
    if workdir is not None:
        return await ChaosRun(profile, workdir, seed).run()
    with tempfile.TemporaryDirectory(prefix="turnstream-chaos-") as scratch:
        return await ChaosRun(profile, Path(scratch), seed).run()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs and data here")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(run_chaos(args.profile, args.workdir, args.seed))
    print(report.render())
    if report.logs:
        print(report.logs)
    if args.json:
        args.json.write_text(json.dumps(dataclasses.asdict(report), indent=1))
    return 0 if report.ok else 1
