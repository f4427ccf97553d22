"""What happened to every activity of a run: its ack, its replies, and what the counts mean.

Times are `time.perf_counter()` seconds. Latencies run from the activity's *intended* send
time, so queueing in the generator or the connection pool is part of them.

- **missing**: a message acknowledged with 2xx that got no reply by the end of the run (a
  conversationUpdate need not be answered: not every bot welcomes);
- **duplicate**: a reply identical to one already received for the same activity (a
  redelivered turn re-sending it); a bot that sends the same text twice on purpose looks alike;
- **out of order**: a reply to an earlier activity of a conversation arriving after a reply to
  a later one;
- **unexpected**: a request to the sink that answers no activity of this run.

In the streaming workload a message's answer is a stream: `typing` activities carrying a
`streaminfo` entity (its updates) and then a `message` (the final one, with `streamType: final`
where the channel streams). Per stream: the **time to first chunk** (intended send to its first
update), the **chunk intervals** (between successive updates) and the **time to final**
(intended send to the final message); a message is missing until its final message arrived.

A reply names the activity it answers in its URL (`.../activities/{replyToId}`) or body. One
that names none (the SDK sends a welcome to a conversationUpdate that way) counts for the most
recent activity sent in its conversation.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from turnstream.devconnector import ReceivedRequest
from turnstream.loadtest.workload import Planned

RECENT = 2000
"""Latencies the live progress line summarizes: the most recent ones."""
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99_9", 99.9))
VOLATILE_FIELDS = ("id", "timestamp", "localTimestamp")
"""Reply fields that may differ between two deliveries of the same reply."""


def summarize(samples: list[float]) -> dict[str, float | int | None]:
    """count, mean, p50/p90/p99/p99.9 (nearest rank) and max, in milliseconds."""
    if not samples:
        empty: dict[str, float | int | None] = {"count": 0, "mean": None, "max": None}
        return empty | {name: None for name, _ in PERCENTILES}
    ordered = sorted(samples)
    n = len(ordered)
    result: dict[str, float | int | None] = {"count": n, "mean": 1000 * sum(ordered) / n}
    for name, q in PERCENTILES:
        result[name] = 1000 * ordered[max(0, math.ceil(q / 100 * n) - 1)]
    result["max"] = 1000 * ordered[-1]
    return result


@dataclass(slots=True)
class Outcome:
    """One sent activity."""

    planned: Planned
    intended: float
    began_at: float | None = None
    """When the generator began sending it (before any wait for its conversation's previous
    activity): `began_at - intended` is the generator's own lateness."""
    acked_at: float | None = None
    status: int | None = None
    first_reply_at: float | None = None
    replies: set[bytes] = field(default_factory=set)
    updates: list[float] = field(default_factory=list)
    """Arrival times of its stream's updates (typing with `streaminfo`), in order."""
    final_at: float | None = None
    """When the first `message` answering it arrived (the streaming workload's end)."""


class Recorder:
    """Collects acks and replies of one run (its activity ids are `{run_id}-{index}`)."""

    def __init__(self, run_id: str, *, streaming: bool = False) -> None:
        self._prefix = f"{run_id}-"
        self._streaming = streaming
        self.outcomes: dict[int, Outcome] = {}
        self.status_codes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.replies = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.unexpected = 0
        self._latest_answered: dict[int, int] = {}  # conversation -> highest sequence answered
        self._latest_sent: dict[int, int] = {}  # conversation -> index of its newest activity
        # Kept as they happen, so the live progress line costs the same at any run length
        # (scanning every outcome stalled the sender for tens of ms on long runs).
        self._acked = 0
        self._awaiting: set[int] = set()  # acknowledged messages not answered yet
        self.recent_acks: deque[float] = deque(maxlen=RECENT)
        self.recent_replies: deque[float] = deque(maxlen=RECENT)

    def sent(self, planned: Planned, intended: float) -> None:
        self.outcomes[planned.index] = Outcome(planned, intended)
        self._latest_sent[planned.conversation] = planned.index

    def began(self, planned: Planned) -> None:
        self.outcomes[planned.index].began_at = time.perf_counter()

    def acked(self, planned: Planned, status: int) -> None:
        outcome = self.outcomes[planned.index]
        outcome.acked_at = time.perf_counter()
        outcome.status = status
        self.status_codes[str(status)] += 1
        self._acked += 1
        self.recent_acks.append(outcome.acked_at - outcome.intended)
        if _expects_reply(outcome) and not self._done(outcome):
            self._awaiting.add(planned.index)

    def failed(self, planned: Planned, error: BaseException) -> None:
        self.outcomes[planned.index].acked_at = time.perf_counter()
        self.errors[type(error).__name__] += 1

    def on_reply(self, request: ReceivedRequest) -> None:
        """A DevConnector listener: match a reply to the activity it answers."""
        now = time.perf_counter()
        outcome = self._answered(request)
        if outcome is None:
            self.unexpected += 1
            return
        self.replies += 1
        body = request.body if isinstance(request.body, dict) else {}
        fingerprint = orjson.dumps(
            {k: v for k, v in body.items() if k not in VOLATILE_FIELDS},
            option=orjson.OPT_SORT_KEYS,
        )
        if fingerprint in outcome.replies:
            self.duplicates += 1
            return
        outcome.replies.add(fingerprint)
        if outcome.first_reply_at is None:
            outcome.first_reply_at = now
            self.recent_replies.append(now - outcome.intended)
        kind = body.get("type")
        if kind == "typing" and _is_stream_update(body):
            outcome.updates.append(now)
        elif kind == "message" and outcome.final_at is None:
            outcome.final_at = now
        if self._done(outcome):
            self._awaiting.discard(outcome.planned.index)
        conversation, sequence = outcome.planned.conversation, outcome.planned.sequence
        latest = self._latest_answered.get(conversation, -1)
        if sequence < latest:
            self.out_of_order += 1
        else:
            self._latest_answered[conversation] = sequence

    def _answered(self, request: ReceivedRequest) -> Outcome | None:
        if request.method != "POST":
            return None
        body = request.body if isinstance(request.body, dict) else {}
        reply_to = request.activity_id or body.get("replyToId")
        if isinstance(reply_to, str):
            index = self._number(reply_to, self._prefix)
            return None if index is None else self.outcomes.get(index)
        conversation = self._number(request.conversation_id, f"{self._prefix}c")
        if conversation is None or conversation not in self._latest_sent:
            return None
        return self.outcomes.get(self._latest_sent[conversation])

    @staticmethod
    def _number(identifier: str, prefix: str) -> int | None:
        """n from `{prefix}{n}`, else None (another run's or nobody's id)."""
        if not identifier.startswith(prefix):
            return None
        try:
            return int(identifier[len(prefix) :])
        except ValueError:
            return None

    def awaiting(self) -> int:
        """Acknowledged messages still without a reply (streaming: without a final message)."""
        return len(self._awaiting)

    def _done(self, outcome: Outcome) -> bool:
        return outcome.final_at is not None if self._streaming else bool(outcome.replies)

    def progress(self) -> dict[str, int]:
        return {
            "sent": len(self.outcomes),
            "acked": self._acked,
            "errors": sum(self.errors.values()),
            "replies": self.replies,
            "awaiting": self.awaiting(),
        }

    def ack_latencies(self) -> list[tuple[float, float]]:
        """(intended send time, ack latency) of every activity that got an HTTP answer."""
        return [
            (o.intended, o.acked_at - o.intended)
            for o in self.outcomes.values()
            if o.status is not None and o.acked_at is not None
        ]

    def send_lags(self) -> list[float]:
        """How late the generator began each send against its intended time (seconds): a
        generator that cannot keep its schedule shows here, and its lateness is in every
        latency."""
        return [o.began_at - o.intended for o in self.outcomes.values() if o.began_at is not None]

    def reply_latencies(self) -> list[tuple[float, float]]:
        """(intended send time, end-to-end latency to the first reply), replied activities."""
        return [
            (o.intended, o.first_reply_at - o.intended)
            for o in self.outcomes.values()
            if o.first_reply_at is not None
        ]

    def stream_figures(self) -> dict[str, Any]:
        """Time to first chunk, chunk intervals and time to final of the streamed answers
        (summaries in ms), and how many streams and updates there were."""
        answered = [o for o in self.outcomes.values() if _expects_reply(o)]
        first = [o.updates[0] - o.intended for o in answered if o.updates]
        intervals = [b - a for o in answered for a, b in itertools.pairwise(o.updates)]
        final = [o.final_at - o.intended for o in answered if o.final_at is not None]
        updates = sum(len(o.updates) for o in answered)
        return {
            "streams": sum(1 for o in answered if o.updates),
            "finished": len(final),
            "updates": updates,
            "time_to_first_chunk_ms": summarize(first),
            "chunk_interval_ms": summarize(intervals),
            "time_to_final_ms": summarize(final),
        }

    def counts(self) -> dict[str, Any]:
        messages = [o for o in self.outcomes.values() if o.planned.sequence > 0]
        updates = [o for o in self.outcomes.values() if o.planned.sequence == 0]
        return {
            "received": self.replies,
            "messages_acknowledged": sum(1 for o in messages if _acknowledged(o)),
            "messages_answered": sum(1 for o in messages if self._done(o)),
            "conversation_updates_answered": sum(1 for o in updates if o.replies),
            "missing": self.awaiting(),
            "duplicate": self.duplicates,
            "out_of_order": self.out_of_order,
            "unexpected": self.unexpected,
        }


def _acknowledged(outcome: Outcome) -> bool:
    return outcome.status is not None and 200 <= outcome.status < 300


def _expects_reply(outcome: Outcome) -> bool:
    return outcome.planned.sequence > 0 and _acknowledged(outcome)


def _is_stream_update(body: dict[str, Any]) -> bool:
    """A typing activity carrying a `streaminfo` entity: an informative update or a chunk."""
    entities = body.get("entities")
    return isinstance(entities, list) and any(
        isinstance(e, dict) and e.get("type") == "streaminfo" for e in entities
    )
