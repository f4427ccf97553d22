"""What each channel does with a stream: whether it streams at all, its pace, how it says the
user stopped, Microsoft 365 Copilot's limits, and the `streaminfo` entity every update carries."""

from __future__ import annotations

from typing import Any

from shared.protocol.answers import EXPECT_REPLIES, STREAM
from shared.schema.activity import Activity, Entity
from worker.connector.errors import ConnectorError

SEND_INTERVALS = {"msteams": 1.0, "webchat": 0.5, "directline": 0.5, "emulator": 0.5}
"""Seconds between two sends of a stream, per streaming channel: what each channel accepts
(Teams throttles a stream to about one update a second). The emulator channel is the dev chat
page's (`turnstream dev`), which shows the stream and has a Stop button; the Bot Framework
Emulator shows a typing indicator until the final message."""

WEB_CHAT_CHANNELS = ("webchat", "directline", "emulator")
"""Channels whose client is Web Chat (or built on it: the Bot Framework Emulator). Web Chat's
livestreaming names a stream by its first activity's id and, up to 4.18.1 (npm's latest in
2026-12), reads `streamType`, `streamSequence` and `streamId` from channelData only; a later
prerelease reads the `streaminfo` entity as well."""

EVENTS_INTERVAL = 0.25
"""Seconds between two sends of a stream on a `deliveryMode: "stream"` request: its updates are
server-sent events read by the client itself (no channel's throttle), each one Redis append."""

STREAM_INFO = "streaminfo"
MAX_INFORMATIVE_LENGTH = 1000
"""Characters an informative update may hold: Teams refuses longer ones (its streaming docs:
"not more than 1 kb or 1000 characters"). Checked on every channel, so a bot tried on Web Chat
or the dev chat page meets the limit there rather than on Teams."""
STREAM_STOPPED = "ContentStreamNotAllowed"
"""The error code of the channel's refusal once the user stopped the stream."""
_TIMED_OUT = "content stream finished due to exceeded streaming time"
"""How Teams words the refusal of a stream that ran past its time cap (about two minutes)."""
_AGENTIC_ROLES = ("agenticAppInstance", "agenticUser")
"""Recipients Teams does not stream to (agentic identities)."""
COPILOT_TIME_CAP = 105.0
"""Seconds Microsoft 365 Copilot lets a stream run, from its first update."""
COPILOT_KEEP_ALIVE = 35.0
"""Copilot drops a stream without an update for longer; the stream resends its text sooner."""


def channel_of(activity: Activity) -> str:
    """The channel, without a sub-channel (`msteams:COPILOT` is `msteams`)."""
    return (activity.channel_id or "").split(":", 1)[0]


def stream_info(**fields: Any) -> Entity:
    """A `streaminfo` entity (`streamType`, `streamSequence`, `streamId`, ...)."""
    return Entity(type=STREAM_INFO, additional_properties=fields)


def streams(activity: Activity) -> bool:
    """Whether the user sees the answer grow: Teams (not to agentic identities), Web Chat,
    Direct Line and the dev chat page, and any `deliveryMode: "stream"` request (its client
    reads the updates as events); never for `expectReplies`, whose replies wait for the turn's
    end."""
    channel = channel_of(activity)
    if activity.delivery_mode == EXPECT_REPLIES:
        return False
    if activity.delivery_mode == STREAM:
        return True
    if channel == "msteams":
        role = activity.recipient.role if activity.recipient else None
        return role not in _AGENTIC_ROLES
    return channel in SEND_INTERVALS


def is_copilot(activity: Activity) -> bool:
    """Microsoft 365 Copilot: Teams' channel with the Copilot product (`msteams:COPILOT`, or a
    `productInfo` entity saying so)."""
    channel = (activity.channel_id or "").lower()
    if channel.startswith("msteams:copilot"):
        return True
    return channel == "msteams" and any(
        e.type == "productInfo"
        and str(e.additional_properties.get("id", "")).lower().startswith("copilot")
        for e in activity.entities or ()
    )


def is_stop(error: ConnectorError, teams: bool) -> bool:
    """The channel's refusal of a stream it no longer takes (Teams answers 403)."""
    return error.code == STREAM_STOPPED or (teams and error.status == 403)


def is_time_cap(error: ConnectorError, teams: bool) -> bool:
    """Teams' refusal of a stream that ran past its time cap (not the user's Stop)."""
    return is_stop(error, teams) and _TIMED_OUT in str(error).lower()
