"""What a worker does with one queued envelope: run its turn, and answer the gateway waiting
for it (an invoke, expectReplies)."""

from __future__ import annotations

from shared.envelope import Envelope
from shared.keys import Keyspace
from worker.adapter import ConnectorAdapter
from worker.answers import AnswerPublisher, answer_of
from worker.service_urls import OutboundPolicy
from worker.types import Bot, PendingAck


class Turns:
    """The consumer's turn runner: `run(envelope, pending_ack)`."""

    def __init__(
        self,
        adapter: ConnectorAdapter,
        bot: Bot,
        policy: OutboundPolicy,
        keys: Keyspace,
        answers: AnswerPublisher,
    ) -> None:
        self._adapter = adapter
        self._bot = bot
        self._policy = policy
        self._keys = keys
        self._answers = answers

    async def run(self, envelope: Envelope, pending_ack: PendingAck) -> None:
        if envelope.service_url is not None:  # the gateway authenticated it: may get the token
            self._policy.trust(envelope.service_url)
        context = await self._adapter.process_activity(envelope.activity(), self._bot, pending_ack)
        if envelope.request is not None:  # a gateway waits for this turn's answer
            shard = self._keys.shard_of(envelope.conversation)
            key = self._keys.answer(shard, envelope.conversation, envelope.request)
            await self._answers.publish(key, answer_of(context))
