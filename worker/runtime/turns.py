"""What a worker does with one queued envelope: run its turn (or a proactive turn's callback or
send), and answer the gateway waiting for it (an invoke, expectReplies)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from redis.exceptions import RedisClusterException, RedisError

from shared.protocol.answers import STREAM
from shared.protocol.envelope import Envelope, EnvelopeError, ProactiveTurn
from shared.protocol.keys import Keyspace
from shared.protocol.teams_batch import TEAMS_BATCH_EVENT
from shared.redis.connection import Redis
from shared.schema.activity import Activity, ActivityTypes
from shared.telemetry.logs import log_context
from worker.bot.adapter import ConnectorAdapter
from worker.bot.invoke import TURN_FAILED_KEY
from worker.bot.proactive import resolve_callback
from worker.bot.routes import BotRoute
from worker.bot.turn_commit import TurnCommit
from worker.bot.turn_context import TurnContext
from worker.bot.types import Bot, TurnHandler
from worker.connector.service_urls import OutboundPolicy
from worker.runtime.answer_events import TurnEvents
from worker.runtime.answer_publisher import AnswerPublisher, answer_of
from worker.runtime.bot_routes import RouteRunner
from worker.runtime.conversation_registry import RegistryRecorder
from worker.runtime.teams_batch import teams_batch_turn
from worker.runtime.throttle import Throttle

log = logging.getLogger(__name__)


class Turns:
    """The consumer's turn runner: `run(envelope, turn_commit)`."""

    def __init__(
        self,
        adapter: ConnectorAdapter,
        bot: Bot,
        policy: OutboundPolicy,
        keys: Keyspace,
        answers: AnswerPublisher,
        *,
        redis: Redis,
        throttle: Throttle,
        routes: Sequence[BotRoute] = (),
        registry: RegistryRecorder | None = None,
    ) -> None:
        self._adapter = adapter
        self._registry = registry
        self._bot = bot
        self._policy = policy
        self._keys = keys
        self._answers = answers
        self._redis = redis
        self._throttle = throttle
        self._routes = RouteRunner(routes, adapter, keys, answers)

    async def run(self, envelope: Envelope, turn_commit: TurnCommit) -> None:
        if envelope.service_url is not None:  # the gateway authenticated it: may get the token
            self._policy.trust(envelope.service_url)
        activity = envelope.activity()
        activity_id = activity.get("id")
        with log_context(activity_id=activity_id if isinstance(activity_id, str) else ""):
            if envelope.route is not None:  # a request to one of the bot's HTTP routes
                return await self._routes.run(envelope, envelope.route, turn_commit)
            if envelope.proactive is not None:
                return await self._run_proactive(activity, envelope.proactive, turn_commit)
            if self._registry is not None:  # a user's activity: operators may reach them later
                await self._registry.saw(activity)  # before the turn: its replies come after
            if envelope.request is None:
                await self._adapter.process_activity(activity, self._bot, turn_commit)
                return None
            # A gateway waits for this turn's answer.
            shard = self._keys.shard_of(envelope.conversation)
            if activity.get("deliveryMode") == STREAM:  # answered as events, as they come
                key = self._keys.answer_events(shard, envelope.conversation, envelope.request)
                events = TurnEvents(self._redis, self._keys.answers_channel(), key, turn_commit)
                context = await self._adapter.process_activity(
                    activity, self._bot, turn_commit, reply_stream=events
                )
                invoke = activity.get("type") == ActivityTypes.INVOKE
                return await events.end(answer_of(context) if invoke else None)
            context = await self._adapter.process_activity(activity, self._bot, turn_commit)
            key = self._keys.answer(shard, envelope.conversation, envelope.request)
            await self._answers.publish(key, answer_of(context))

    async def given_up(self, envelope: Envelope, reason: str) -> None:
        """The envelope's entry was dead-lettered: a client reading a `stream` request's events
        hears it now (an invoke's gateway answers its fallback at its timeout, as before)."""
        if envelope.request is None or envelope.route is not None or envelope.proactive:
            return
        try:
            streamed = envelope.activity().get("deliveryMode") == STREAM
        except EnvelopeError:
            return
        if streamed:
            shard = self._keys.shard_of(envelope.conversation)
            key = self._keys.answer_events(shard, envelope.conversation, envelope.request)
            events = TurnEvents(self._redis, self._keys.answers_channel(), key, None)
            try:
                await events.given_up(reason)
            except (RedisError, RedisClusterException, OSError) as e:
                log.warning("could not tell the client of %s that its turn failed: %s", key, e)

    async def _run_proactive(
        self, activity: dict[str, Any], proactive: ProactiveTurn, turn_commit: TurnCommit
    ) -> None:
        handler: TurnHandler | None = None
        if proactive.callback is not None:
            handler = resolve_callback(proactive.callback, self._bot, self._adapter.local_callbacks)
        elif proactive.send is not None:
            handler = _sender(orjson.loads(proactive.send))
        elif proactive.job is not None and activity.get("name") == TEAMS_BATCH_EVENT:
            handler = teams_batch_turn(activity["value"], self._recorder(proactive.job))
        # Paced only where a channel throttles: the sends of a fan-out, not a bot's own turns.
        if proactive.job is not None:
            await self._throttle.wait(activity)
        context = await self._adapter.process_activity(
            activity, self._bot, turn_commit, handler=handler
        )
        if proactive.job is not None:
            outcome = "failed" if context.turn_state.get(TURN_FAILED_KEY) else "done"
            await self._redis.hincrby(self._keys.proactive_job(proactive.job), outcome, 1)

    def _recorder(self, job: str) -> Callable[[dict[str, str]], Awaitable[None]]:
        """Where a batch operation's turn records what Teams answered, in the job."""

        async def record(fields: dict[str, str]) -> None:
            key = self._keys.proactive_job(job)
            async with self._redis.pipeline(transaction=True) as pipe:
                for name, value in fields.items():
                    pipe.hset(key, name, value)
                await pipe.execute()

        return record


def _sender(doc: dict[str, Any]) -> TurnHandler:
    """A turn that sends the operator's activity into the conversation."""

    async def send(turn_context: TurnContext) -> None:
        await turn_context.send_activity(Activity.from_dict(doc))

    return send
