"""What a turn does besides replying happens once, however often the turn runs: a proactive
turn it queues, a turn it schedules, a conversation, a Teams channel thread or a batch send it
starts. On real Redis and a connector on loopback; the turn runs again as it does in a worker:
in process after a state conflict, and in another delivery that loads the entry's record."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import ChannelAccount, ConversationParameters, ResourceResponse
from tests.support.activities import message
from tests.support.http import serving
from tests.support.recording_connector import RecordingConnector
from tests.worker.runtime.delivery.commits import Delivered, commit_for, deliver
from worker.bot.activity_handler import ActivityHandler
from worker.bot.adapter import ConnectorAdapter
from worker.bot.storage import EtagConflict
from worker.bot.teams import (
    TargetedMeetingNotification,
    TargetedMeetingNotificationValue,
    TeamMember,
    TeamsInfo,
)
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.runtime.delivery.send_journal import unpack

TARGET = {
    "channelId": "test",
    "serviceUrl": "http://127.0.0.1:9/",
    "conversation": {"id": "c-target"},
    "user": {"id": "u-1"},
    "bot": {"id": "bot-1"},
}


async def remind(turn_context: TurnContext) -> None:
    await turn_context.send_activity("reminder")


PLACEHOLDER = b"x"
"""The envelope of the entries `deliver` appends: the turns below run from an activity given
to the adapter, not from the entry."""

Effect = Callable[[TurnContext], Awaitable[Any]]


class ConflictingBot(ActivityHandler):
    """Does `effect`, replies, and fails its first `conflicts` runs with a state conflict (as a
    save that lost to another writer does): the adapter runs the turn again."""

    def __init__(self, effect: Effect, conflicts: int = 1) -> None:
        self._effect = effect
        self._conflicts = conflicts
        self.results: list[Any] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.results.append(await self._effect(turn_context))
        await turn_context.send_activity("done")
        if self._conflicts:
            self._conflicts -= 1
            raise EtagConflict("k", "stale", "newer")


class Memory:
    """LocalCallbacks: this process's memory of closures queued as proactive turns."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    async def keep(self, callback: Any) -> str:
        name = f"local:{uuid.uuid4().hex}"
        self.kept[name] = callback
        return name

    def queued(self, name: str, conversation: str, entry_id: str) -> None:
        pass

    def dropped(self, name: str) -> None:
        self.kept.pop(name, None)

    def find(self, name: str) -> Any:
        return self.kept.get(name)


@pytest.fixture
async def client() -> AsyncIterator[ConnectorClient]:
    made = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield made
    await made.aclose()


@dataclass
class World:
    """Real Redis, a connector on loopback and a worker's adapter: `deliver()` an entry, `run`
    its turn (by a bot as given), as a worker would, and look at what came of it."""

    redis: Redis
    keys: Keyspace
    scripts: RespExecutor
    client: ConnectorClient
    connector: RecordingConnector
    url: str

    async def deliver(self) -> Delivered:
        return await deliver(self.redis, self.keys, "test/conv-1")

    async def run(
        self, bot: ConflictingBot, entry: Delivered, record: list[ResourceResponse] | None = None
    ) -> None:
        """Run `entry`'s turn with `bot`; with the `record` an earlier delivery left, as the
        worker that takes the entry over does."""
        commit = commit_for(entry, self.redis, self.scripts)
        if record is not None:
            commit.replies = record
        adapter = ConnectorAdapter(
            self.client,
            proactive=ProactiveQueue(self.redis, self.keys),
            schedule=Schedule(self.redis, self.keys),
            bot=bot,
            local_callbacks=Memory(),
        )
        activity = message("go", conversation="conv-1", service_url=self.url)
        await adapter.process_activity(activity, bot, commit)

    def replies(self) -> list[str]:
        return [r.raw_path for r in self.connector.requests if r.raw_path.endswith("/activities/1")]

    async def proactive_turns(self) -> list[Envelope]:
        """Every proactive turn queued in the keyspace's streams (the entries `deliver` appends
        by hand, whose envelope is a placeholder, left out)."""
        found = []
        for stream in self.keys.streams():
            entries: Any = await self.redis.xrange(stream)
            for _id, fields in entries:
                raw = fields[ENVELOPE_FIELD.encode()]
                if raw != PLACEHOLDER and (envelope := Envelope.decode(raw)).proactive is not None:
                    found.append(envelope)
        return found

    async def recorded(self, entry: Delivered, positions: int) -> list[ResourceResponse]:
        """The entry's record of what its turn did, once it holds `positions` (it is written
        ~2 ms after each effect, not awaited by the turn)."""
        deadline = time.monotonic() + 5
        while True:
            stored: Any = await self.redis.get(entry.sent_key)
            recorded = unpack(stored)
            if len(recorded) >= positions:
                return recorded
            assert time.monotonic() < deadline, f"record holds {len(recorded)} of {positions}"
            await asyncio.sleep(0.01)


@pytest.fixture
async def world(
    redis: Redis, keys: Keyspace, scripts: RespExecutor, client: ConnectorClient
) -> AsyncIterator[World]:
    recording = RecordingConnector(
        default={"id": "r-1", "activityId": "a-1", "operationId": "op-1"}
    )
    async with serving(recording.app) as url:
        yield World(redis, keys, scripts, client, recording, url)


async def test_a_turn_run_again_after_a_state_conflict_queues_its_proactive_turn_once(
    world: World,
) -> None:
    bot = ConflictingBot(
        lambda context: context.adapter.continue_conversation(TARGET, remind), conflicts=2
    )
    entry = await world.deliver()

    await world.run(bot, entry)

    assert len(bot.results) == 3  # ran three times
    assert len(set(bot.results)) == 1  # and got the one queued turn's entry id each time
    (queued,) = await world.proactive_turns()
    assert queued.proactive is not None and queued.proactive.callback == f"{__name__}:remind"
    assert len(world.replies()) == 1


async def test_another_delivery_of_the_entry_gets_the_queued_turn_back(world: World) -> None:
    bot = ConflictingBot(
        lambda context: context.adapter.continue_conversation(TARGET, remind), conflicts=0
    )
    entry = await world.deliver()
    await world.run(bot, entry)
    # The worker stopped before committing; the entry is delivered again with its record.
    await world.run(bot, entry, await world.recorded(entry, 2))

    assert len(await world.proactive_turns()) == 1
    assert bot.results[0] == bot.results[1]
    assert len(world.replies()) == 1


async def test_a_closure_is_queued_again_by_another_delivery_but_once_in_one_process(
    world: World,
) -> None:
    # A closure lives in the memory of the worker that queued it: a delivery in another worker
    # queues its own, or the message would wait for a worker that is gone (decision 0019).

    async def queue_closure(context: TurnContext) -> Any:
        return await context.adapter.continue_conversation(
            TARGET, lambda turn_context: turn_context.send_activity("hi")
        )

    bot = ConflictingBot(queue_closure, conflicts=1)
    entry = await world.deliver()
    await world.run(bot, entry)
    assert len(await world.proactive_turns()) == 1  # two runs in this process: one turn

    await world.run(bot, entry, await world.recorded(entry, 2))

    assert len(await world.proactive_turns()) == 2
    assert len(world.replies()) == 1  # the reply is still sent once


async def test_a_turn_it_schedules_is_scheduled_once(world: World) -> None:
    bot = ConflictingBot(
        lambda context: context.adapter.schedule_turn(TARGET, remind, after=3600), conflicts=1
    )
    entry = await world.deliver()

    await world.run(bot, entry)

    assert bot.results[0] == bot.results[1]
    assert len(await Schedule(world.redis, world.keys).waiting(conversation="test/c-target")) == 1


async def test_a_conversation_it_creates_is_created_once_and_its_callback_queued_once(
    world: World,
) -> None:
    parameters = ConversationParameters(members=[ChannelAccount(id="u-2")], tenant_id="t-1")

    async def create(context: TurnContext) -> Any:
        created = await context.adapter.create_conversation("test", world.url, parameters, remind)
        return (created.id, created.activity_id)

    bot = ConflictingBot(create, conflicts=1)
    entry = await world.deliver()

    await world.run(bot, entry)

    assert bot.results == [("r-1", "a-1"), ("r-1", "a-1")]
    created = [r for r in world.connector.requests if r.raw_path == "/v3/conversations"]
    assert len(created) == 1
    (queued,) = await world.proactive_turns()
    assert queued.conversation == "test/r-1"


@pytest.mark.parametrize("kind", ["channel thread", "batch send", "meeting notification"])
async def test_a_teams_thread_batch_send_or_meeting_notification_is_sent_once(
    world: World, kind: str
) -> None:

    async def start(context: TurnContext) -> Any:
        activity = context.activity.create_reply("news")
        if kind == "channel thread":
            reference, activity_id = await TeamsInfo.send_message_to_teams_channel(
                context, activity, "19:channel"
            )
            return (reference.conversation.id if reference.conversation else None, activity_id)
        if kind == "meeting notification":
            notification = TargetedMeetingNotification(
                value=TargetedMeetingNotificationValue(recipients=["29:u-1"], surfaces=[])
            )
            answer = await TeamsInfo.send_meeting_notification(context, notification, "m-1")
            return answer.to_dict()
        members = [TeamMember(id="29:u-1"), TeamMember(id="29:u-2")]
        return await TeamsInfo.send_message_to_list_of_users(context, activity, members, "t-1")

    bot = ConflictingBot(start, conflicts=1)
    entry = await world.deliver()

    await world.run(bot, entry)

    assert bot.results[0] == bot.results[1]
    posts = [
        r
        for r in world.connector.requests
        if r.method == "POST" and "/activities/" not in r.raw_path
    ]
    assert len(posts) == 1, [r.raw_path for r in posts]
