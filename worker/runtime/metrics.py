"""A worker's metrics: turns by outcome, turn time and queue wait, connector calls, takeovers,
lease conflicts, dead letters, scheduled turns.

Per turn only counters and histogram observations in process memory (no Redis command); the
dead-letter gauge is polled in the background (`worker.runtime.queue_gauges`).
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.telemetry.metrics import SLOW_BUCKETS


class Outcome(StrEnum):
    """How a delivery of a stream entry ended (the `outcome` label of turns_total)."""

    OK = "ok"
    """The turn ran and was committed."""
    FAILED = "failed"
    """The bot raised; on_turn_error ran and the entry was committed (bot bugs are not retried)."""
    RETRIED = "retried"
    """A transient failure (Redis, network, connector 429/5xx): the entry runs again later."""
    DEAD_LETTERED = "dead_lettered"
    """Given up after TURNSTREAM_MAX_DELIVERIES, or unreadable: moved to the dead letters."""
    TAKEN_OVER = "taken_over"
    """Another worker owns the entry now (this one stalled): dropped here, not committed."""
    DUPLICATE = "duplicate"
    """Already committed by an earlier delivery: acknowledged without running."""
    HANDED_OVER = "handed_over"
    """A proactive turn whose callback another worker keeps in memory: passed on to it."""


class WorkerMetrics:
    """The metrics of one worker process, in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._turns = Counter(
            "turnstream_worker_turns",
            "Deliveries of stream entries, by how they ended.",
            ["outcome"],
            registry=r,
        )
        self._outcomes = {outcome: self._turns.labels(outcome.value) for outcome in Outcome}
        self.turn_seconds = Histogram(
            "turnstream_worker_turn_seconds",
            "Time to run one delivery of a turn, commit included.",
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self.queue_wait_seconds = Histogram(
            "turnstream_worker_queue_wait_seconds",
            "From the gateway's receipt of an activity to the start of its first delivery.",
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self._connector = Counter(
            "turnstream_worker_connector_requests",
            "Bot Connector HTTP requests, by method and status ('error': no answer; "
            "'refused': an answer past the bounds or not HTTP).",
            ["method", "status"],
            registry=r,
        )
        self._connector_children: dict[tuple[str, str], Counter] = {}
        self.connector_seconds = Histogram(
            "turnstream_worker_connector_request_seconds",
            "Time of one Bot Connector HTTP request (each retry counts on its own).",
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self.takeovers = Counter(
            "turnstream_worker_takeovers",
            "Entries claimed from workers that stopped renewing them (XAUTOCLAIM).",
            registry=r,
        )
        self.lease_conflicts = Counter(
            "turnstream_worker_lease_conflicts",
            "Entries this worker found owned by another (taken over while it stalled): "
            "a reply not sent or a fenced commit refused.",
            registry=r,
        )
        self._fenced = Counter(
            "turnstream_worker_fenced",
            "Deliveries dropped because their entry belongs to another worker (this one stalled "
            "past the claim timeout), by the operation that found it out: start, send, write, "
            "commit, state (a storage outside Redis), ack.",
            ["operation"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "turnstream_dead_letters",
            "Entries in the shard's dead-letter stream (polled).",
            ["shard"],
            registry=r,
        )
        self.scheduled = Counter(
            "turnstream_scheduled_turns_scheduled",
            "Turns this worker's bot code scheduled (shared.protocol.schedule).",
            registry=r,
        )
        self.scheduled_waiting = Gauge(
            "turnstream_scheduled_turns_waiting",
            "Scheduled turns waiting in the shard, due or not (polled).",
            ["shard"],
            registry=r,
        )
        self.scheduled_due = Gauge(
            "turnstream_scheduled_turns_due",
            "Scheduled turns of the shard past their due time and not queued yet (polled).",
            ["shard"],
            registry=r,
        )
        self.scheduled_fired = Counter(
            "turnstream_scheduled_turns_fired",
            "Due turns this worker queued into their conversation's stream.",
            registry=r,
        )
        self.scheduled_late = Counter(
            "turnstream_scheduled_turns_late",
            "Due turns this worker queued more than a second after their due time.",
            registry=r,
        )
        self.scheduled_lateness_seconds = Histogram(
            "turnstream_scheduled_turn_lateness_seconds",
            "From a scheduled turn's due time to its queueing in the stream.",
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "turnstream_worker_entries_held",
            "Entries this worker holds: queued, waiting for their predecessor, or running.",
            registry=r,
        )

    def turn_ended(self, outcome: Outcome) -> None:
        self._outcomes[outcome].inc()

    def fenced(self, operation: str) -> None:
        self._fenced.labels(operation).inc()

    def connector_request(self, method: str, status: str, seconds: float) -> None:
        child = self._connector_children.get((method, status))
        if child is None:  # few: the client's methods times HTTP statuses
            child = self._connector_children[method, status] = self._connector.labels(
                method, status
            )
        child.inc()
        self.connector_seconds.observe(seconds)
