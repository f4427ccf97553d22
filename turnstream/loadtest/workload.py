"""The activities a load test sends and when each one is due.

Each conversation opens with a conversationUpdate (the user joins, so a bot's welcome counts as
a reply) and goes on with messages (in the streaming workload, each asking for an answer
streamed for a given time). Send times are *intended* times on a fixed schedule: a slow
answer delays nothing after it, so it shows up in the latency instead of hiding as fewer
requests (coordinated omission).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Planned:
    """One activity of the run: the i-th, due `due` seconds after the start."""

    index: int
    due: float
    conversation: int
    sequence: int
    """Its place in its conversation: 0 is the conversationUpdate."""


def due_time(index: int, rate: float, ramp: float) -> float:
    """When activity `index` is due: constant `rate`, after a linear ramp from 0 over `ramp` s.

    During the ramp the rate at time t is rate*t/ramp, so the n-th activity is due when
    rate*t^2/(2*ramp) = n.
    """
    ramp_count = rate * ramp / 2
    if index < ramp_count:
        return math.sqrt(2 * ramp * index / rate)
    return ramp + (index - ramp_count) / rate


def schedule(count: int, rate: float, ramp: float, conversations: int) -> list[Planned]:
    """Every activity of the run in due order; activity i goes to conversation i mod C."""
    sequences = [0] * conversations
    planned = []
    for index in range(count):
        conversation = index % conversations
        planned.append(
            Planned(index, due_time(index, rate, ramp), conversation, sequences[conversation])
        )
        sequences[conversation] += 1
    return planned


class ActivityFactory:
    """Builds the wire JSON of planned activities for one run (ids unique to the run)."""

    def __init__(
        self, run_id: str, channel_id: str, service_url: str, stream_seconds: float | None = None
    ) -> None:
        self.run_id = run_id
        self.channel_id = channel_id
        self.service_url = service_url
        self.stream_seconds = stream_seconds
        """When set, each message asks for a streamed answer that long (`value.streamSeconds`,
        read by `turnstream.loadtest.streaming_bot`)."""

    def activity_id(self, planned: Planned) -> str:
        return f"{self.run_id}-{planned.index}"

    def conversation_id(self, conversation: int) -> str:
        return f"{self.run_id}-c{conversation}"

    def body(self, planned: Planned) -> bytes:
        user = {"id": f"user-{planned.conversation}", "name": f"User {planned.conversation}"}
        bot = {"id": "bot", "name": "Bot"}
        activity: dict[str, Any] = {
            "id": self.activity_id(planned),
            "channelId": self.channel_id,
            "serviceUrl": self.service_url,
            "conversation": {"id": self.conversation_id(planned.conversation)},
            "from": user,
            "recipient": bot,
            "locale": "en-US",
        }
        if planned.sequence == 0:
            activity |= {"type": "conversationUpdate", "membersAdded": [user, bot]}
        else:
            activity |= {"type": "message", "text": f"message {planned.sequence}"}
            if self.stream_seconds is not None:
                activity["value"] = {"streamSeconds": self.stream_seconds}
        return orjson.dumps(activity)
