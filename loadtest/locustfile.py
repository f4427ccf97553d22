"""Locust load profile for turnstream: channels posting activities, and a reply sink.

Every Locust process that runs users (standalone, or each worker in distributed mode) also
serves a Bot Connector stand-in, the *reply sink*, and puts its address in the activities'
`serviceUrl`, so the bot's replies come back to the process that sent the activity. Locust then
reports two request types:

- `POST /api/messages`: the gateway's acknowledgement (HTTP);
- `REPLY end-to-end`: from sending an activity to the sink receiving the bot's first reply to
  it. A message without a reply within REPLY_TIMEOUT seconds is a `REPLY missing` failure; a
  reply identical to one already received for the same activity is a `REPLY duplicate` failure.

Self-contained (Locust and the standard library only), so the stock Locust image runs it.

Environment: SINK_HOST (default 127.0.0.1; 0.0.0.0 in a pod), SINK_PORT (3979), SERVICE_URL
(default http://127.0.0.1:SINK_PORT: set it to an address the workers reach), MESSAGES (per
conversation before a user starts a new one, default 20), REPLY_TIMEOUT (10), CHANNEL_ID
(loadtest). Example, against `turnstream dev --bot samples.echo:bot`:

    locust -f loadtest/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:3978
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer
from locust import FastHttpUser, constant_pacing, events, task
from locust.env import Environment
from locust.runners import MasterRunner

SINK_HOST = os.environ.get("SINK_HOST", "127.0.0.1")
SINK_PORT = int(os.environ.get("SINK_PORT", "3979"))
SERVICE_URL = os.environ.get("SERVICE_URL") or f"http://127.0.0.1:{SINK_PORT}"
MESSAGES = int(os.environ.get("MESSAGES", "20"))
REPLY_TIMEOUT = float(os.environ.get("REPLY_TIMEOUT", "10"))
CHANNEL_ID = os.environ.get("CHANNEL_ID", "loadtest")
REPLY = "REPLY"
QUIET_SECONDS = 1.0


class MissingReply(Exception):
    """No reply within REPLY_TIMEOUT."""


class DuplicateReply(Exception):
    """The same reply twice for one activity."""


class ReplyTracker:
    """Activities awaiting a reply, by id; fires Locust request events as replies come in."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.awaiting: dict[str, float] = {}  # activity id -> send time (messages only)
        self.answered: dict[str, tuple[float, set[str]]] = {}  # id -> (send time, replies seen)
        self.sent_at: dict[str, float] = {}  # every activity, for welcomes too
        self.latest: dict[str, str] = {}  # conversation -> id of its newest activity
        self.last_traffic_at = 0.0  # the last send or reply

    def sending(self, activity_id: str, conversation: str) -> None:
        self.sent_at[activity_id] = self.last_traffic_at = time.time()
        self.latest[conversation] = activity_id

    def acknowledged(self, activity_id: str) -> None:
        """A message the gateway took: its reply is due (unless it already came)."""
        if activity_id not in self.answered and activity_id in self.sent_at:
            self.awaiting[activity_id] = self.sent_at[activity_id]

    def received(self, reply_to: str | None, conversation: str, body: bytes) -> None:
        if reply_to is None:  # sent to the conversation (a welcome): its newest activity's
            reply_to = self.latest.get(conversation)
            if reply_to is None:
                return
        fire = self.environment.events.request.fire
        self.last_traffic_at = time.time()
        sent = self.sent_at.get(reply_to)
        if sent is None:
            return  # another process's or run's activity
        now = time.time()
        _, seen = self.answered.setdefault(reply_to, (sent, set()))
        fingerprint = _fingerprint(body)
        if fingerprint in seen:
            fire(
                request_type=REPLY,
                name="duplicate",
                response_time=(now - sent) * 1000,
                response_length=len(body),
                exception=DuplicateReply(reply_to),
                context={},
            )
            return
        seen.add(fingerprint)
        if len(seen) == 1:
            self.awaiting.pop(reply_to, None)
            fire(
                request_type=REPLY,
                name="end-to-end",
                response_time=(now - sent) * 1000,
                response_length=len(body),
                exception=None,
                context={},
            )

    def expire(self) -> None:
        """Count messages past REPLY_TIMEOUT as missing; forget old answered ones."""
        now = time.time()
        for activity_id, sent in list(self.awaiting.items()):
            if now - sent > REPLY_TIMEOUT:
                del self.awaiting[activity_id]
                self.environment.events.request.fire(
                    request_type=REPLY,
                    name="missing",
                    response_time=(now - sent) * 1000,
                    response_length=0,
                    exception=MissingReply(activity_id),
                    context={},
                )
        for activity_id, sent in list(self.sent_at.items()):
            if now - sent > 3 * REPLY_TIMEOUT:
                del self.sent_at[activity_id]
                self.answered.pop(activity_id, None)


def _fingerprint(body: bytes) -> str:
    try:
        activity = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    if isinstance(activity, dict):
        for volatile in ("id", "timestamp", "localTimestamp"):
            activity.pop(volatile, None)
    return json.dumps(activity, sort_keys=True)


tracker: ReplyTracker | None = None


def sink_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The Bot Connector stand-in: answer like the service, record replies."""
    parts = environ.get("PATH_INFO", "").strip("/").split("/")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    # /v3/conversations/{conversation}/activities[/{replyToId}]
    if (
        environ["REQUEST_METHOD"] == "POST"
        and len(parts) in (4, 5)
        and parts[:1] == ["v3"]
        and parts[3] == "activities"
        and tracker is not None
    ):
        tracker.received(parts[4] if len(parts) == 5 else None, parts[2], body)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"id": uuid.uuid4().hex}).encode()]


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    global tracker
    if isinstance(environment.runner, MasterRunner):
        return  # the master runs no users: the workers' sinks get the replies
    tracker = ReplyTracker(environment)
    WSGIServer((SINK_HOST, SINK_PORT), sink_app, log=None).start()

    def expire_forever() -> None:
        while True:
            gevent.sleep(1)
            if tracker is not None:
                tracker.expire()

    gevent.spawn(expire_forever)


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    """Give replies still due their chance, then count the rest as missing. Replies nobody
    awaits (welcomes) get until a second passes without a send or a reply."""
    if tracker is None:
        return
    deadline = time.time() + REPLY_TIMEOUT
    while time.time() < deadline and (
        tracker.awaiting or time.time() - tracker.last_traffic_at < QUIET_SECONDS
    ):
        gevent.sleep(0.1)
    tracker.expire()
    for activity_id in list(tracker.awaiting):
        del tracker.awaiting[activity_id]
        environment.events.request.fire(
            request_type=REPLY,
            name="missing",
            response_time=0,
            response_length=0,
            exception=MissingReply(activity_id),
            context={},
        )


class Channel(FastHttpUser):
    """One user of a channel: joins a conversation, sends MESSAGES messages, starts another."""

    wait_time = constant_pacing(1)  # one activity per user per second: rate = users

    def on_start(self) -> None:
        self.user_id = f"user-{uuid.uuid4().hex[:8]}"
        self.new_conversation()

    def new_conversation(self) -> None:
        self.conversation = f"locust-{uuid.uuid4().hex[:12]}"
        self.sequence = 0
        self.post(
            {
                "type": "conversationUpdate",
                "membersAdded": [{"id": self.user_id, "name": "Load"}, {"id": "bot"}],
            },
            expects_reply=False,
        )

    @task
    def message(self) -> None:
        if self.sequence >= MESSAGES:
            self.new_conversation()
            return
        self.sequence += 1
        self.post({"type": "message", "text": f"message {self.sequence}"}, expects_reply=True)

    def post(self, fields: dict[str, Any], expects_reply: bool) -> None:
        activity_id = uuid.uuid4().hex
        activity = {
            "id": activity_id,
            "channelId": CHANNEL_ID,
            "serviceUrl": SERVICE_URL,
            "conversation": {"id": self.conversation},
            "from": {"id": self.user_id, "name": "Load"},
            "recipient": {"id": "bot", "name": "Bot"},
            **fields,
        }
        if tracker is not None:
            tracker.sending(activity_id, self.conversation)
        response = self.client.post("/api/messages", json=activity, name="POST /api/messages")
        # Only an acknowledged message owes a reply (a refused or interrupted one does not).
        if tracker is not None and expects_reply and 200 <= (response.status_code or 0) < 300:
            tracker.acknowledged(activity_id)
