"""Placeholder load profile for the `loadtest` overlay: POST message activities to the gateway.

It measures the gateway's acknowledgements only. The workers' replies go to SERVICE_URL, which
must be a Bot Connector stand-in that answers them; the load-test work replaces this file.
"""

import itertools
import os
import uuid

from locust import FastHttpUser, constant, task

SERVICE_URL = os.environ.get("SERVICE_URL", "http://connector-sink:3979")
CONVERSATIONS = int(os.environ.get("CONVERSATIONS", "1000"))


class Channel(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.conversations = itertools.cycle(range(CONVERSATIONS))

    @task
    def message(self) -> None:
        conversation = f"load-{next(self.conversations)}"
        self.client.post(
            "/api/messages",
            json={
                "type": "message",
                "id": uuid.uuid4().hex,
                "text": "hello",
                "channelId": "loadtest",
                "serviceUrl": SERVICE_URL,
                "conversation": {"id": conversation},
                "from": {"id": "user"},
                "recipient": {"id": "bot"},
            },
            name="POST /api/messages",
        )
