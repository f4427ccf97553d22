"""Plain RESP batches on a Redis Cluster: each command goes to the master that owns
its key's slot.

The slot map comes from `CLUSTER SLOTS`. A `MOVED` answer (the slot moved: resharding or a
failover) refreshes the map and sends the command again to the new owner; `ASK` (a slot being
migrated) sends it once to the named node after `ASKING`. A master that does not answer fails
only the commands routed to it (their callers answer 503) and schedules a refresh, so once its
replica is promoted the next batches go there. Commands of one batch for different masters go out
concurrently, one batch per master.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

from redis.crc import key_slot

from shared.redis.resp import (
    Command,
    Endpoint,
    ReplyError,
    RespConnection,
    RespError,
    ServerPool,
    ServerPools,
)

log = logging.getLogger(__name__)

SLOTS = 16384
_REDIRECTS = 3
_MIN_REFRESH_INTERVAL = 0.1
"""Seconds: many failed commands at once cause one map refresh, not one each."""

Node = tuple[str, int]


class NodeUnreachable(RespError):
    """The master owning a command's slot did not answer (killed, partitioned, failing over)."""


def command_slot(command: Command) -> int | None:
    """The slot of a command's first key: EVAL/EVALSHA name theirs after the key count; other
    commands the gateway sends have their key first. None for a command without a key."""
    name = str(command[0]).upper()
    if name in ("EVAL", "EVALSHA", "FCALL"):
        if int(command[2]) == 0:
            return None
        key = command[3]
    elif name in ("SCRIPT", "PING", "WAIT", "WAITAOF", "INFO"):
        return None
    else:
        key = command[1]
    return key_slot(key if isinstance(key, bytes) else str(key).encode())


class ClusterRespPool:
    """`execute(commands)` like `RespPool`, routed by slot, each master's share sent on its pool
    from `servers`. Keyless commands (SCRIPT LOAD) go to every master; the first master's reply
    is returned."""

    def __init__(self, seeds: Sequence[Endpoint], *, servers: ServerPools) -> None:
        if not seeds:
            raise ValueError("a cluster needs at least one seed node")
        self._seeds = list(seeds)
        self.servers = servers
        self._owners: list[Node] = []
        self._pools: dict[Node, ServerPool] = {}
        self._refresh_lock = asyncio.Lock()
        self._refreshed_at = -1.0
        self._stale = True
        self.refreshes = 0

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        if self._stale or not self._owners:
            await self._refresh()
        results: list[Any] = [None] * len(commands)
        todo = list(range(len(commands)))
        for _ in range(_REDIRECTS):
            generation = self.refreshes
            moved = await self._send(commands, todo, results)
            if not moved:
                return results
            await self._refresh(moved_since=generation)
            todo = moved
        return results  # still MOVED after refreshing: the error reply is the answer

    async def _send(
        self, commands: Sequence[Command], todo: list[int], results: list[Any]
    ) -> list[int]:
        """Send the `todo` commands, one batch per master, concurrently; fill `results`; return
        the indexes answered MOVED."""
        by_node: dict[Node, list[int]] = {}
        for i in todo:
            slot = command_slot(commands[i])
            if slot is None:
                results[i] = await self._everywhere(commands[i])
            else:
                by_node.setdefault(self._owners[slot], []).append(i)
        nodes = list(by_node)
        answers = await asyncio.gather(
            *(self._pool(node).execute([commands[i] for i in by_node[node]]) for node in nodes),
            return_exceptions=True,
        )
        moved: list[int] = []
        for node, answer in zip(nodes, answers, strict=True):
            if isinstance(answer, (OSError, TimeoutError, RespError)):
                self._stale = True  # maybe failed over: look again before the next batch
                failure = answer if isinstance(answer, RespError) else _unreachable(node, answer)
                for i in by_node[node]:
                    results[i] = failure
            elif isinstance(answer, BaseException):
                raise answer
            else:
                for i, reply in zip(by_node[node], answer, strict=True):
                    results[i] = await self._redirected(reply, commands[i], i, moved)
        return moved

    async def _redirected(self, reply: Any, command: Command, index: int, moved: list[int]) -> Any:
        """The reply, or what the node named by an ASK answered; MOVED is noted in `moved`."""
        if isinstance(reply, ReplyError):
            text = str(reply)
            if text.startswith("MOVED "):
                moved.append(index)
            elif text.startswith("ASK "):
                return await self._ask(text, command)
        return reply

    async def _ask(self, error: str, command: Command) -> Any:
        node = _address(error.split()[2])
        try:
            _, reply = await self._pool(node).execute([("ASKING",), command])
        except (OSError, TimeoutError) as e:
            return _unreachable(node, e)
        return reply

    async def _everywhere(self, command: Command) -> Any:
        masters = sorted(set(self._owners))
        answers = await asyncio.gather(
            *(self._pool(node).execute([command]) for node in masters), return_exceptions=True
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                self._stale = True
                return answer if isinstance(answer, RespError) else NodeUnreachable(str(answer))
        return answers[0][0]  # type: ignore[index]

    def _pool(self, node: Node) -> ServerPool:
        pool = self._pools.get(node)
        if pool is None:
            endpoint = dataclasses.replace(self._seeds[0], host=node[0], port=node[1], path=None)
            pool = self._pools[node] = self.servers(endpoint)
        return pool

    async def _refresh(self, *, moved_since: int | None = None) -> None:
        """Read the slot map again. After a MOVED (`moved_since`: the map generation the batch
        was routed with), unless another caller already did; after a failure (stale map), at
        most every _MIN_REFRESH_INTERVAL."""
        async with self._refresh_lock:
            if moved_since is not None:
                if self.refreshes != moved_since:
                    return
            elif not self._stale and self._owners:
                return  # another caller refreshed while this one waited
            elif time.monotonic() - self._refreshed_at < _MIN_REFRESH_INTERVAL and self._owners:
                return
            self._refreshed_at = time.monotonic()
            candidates = [pool.endpoint for pool in self._pools.values()] + self._seeds
            last_error: BaseException | None = None
            for endpoint in candidates:
                try:
                    owners = await _slot_map(endpoint)
                except (OSError, TimeoutError, RespError) as e:
                    last_error = e
                    continue
                if owners is None:
                    continue  # a node that lost its view of the cluster: ask another one
                self._owners, self._stale = owners, False
                self.refreshes += 1
                return
            raise NodeUnreachable(f"no cluster node answered CLUSTER SLOTS: {last_error}")

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


async def _slot_map(endpoint: Endpoint) -> list[Node] | None:
    """slot -> master, from one node's CLUSTER SLOTS; None if that node's map has holes."""
    connection = await asyncio.wait_for(RespConnection.open(endpoint), 1.0)
    try:
        (reply,) = await asyncio.wait_for(connection.execute([("CLUSTER", "SLOTS")]), 1.0)
    finally:
        connection.close()
    if isinstance(reply, ReplyError):
        raise RespError(f"CLUSTER SLOTS failed: {reply}")
    owners: list[Node | None] = [None] * SLOTS
    for start, end, primary, *_ in reply:
        host = primary[0].decode() if isinstance(primary[0], bytes) else str(primary[0])
        node = (host or endpoint.host, int(primary[1]))
        for slot in range(int(start), int(end) + 1):
            owners[slot] = node
    if any(owner is None for owner in owners):
        return None
    return [owner for owner in owners if owner is not None]


def _address(text: str) -> Node:
    host, _, port = text.rpartition(":")
    return host, int(port)


def _unreachable(node: Node, error: BaseException) -> NodeUnreachable:
    return NodeUnreachable(f"{node[0]}:{node[1]} unreachable: {type(error).__name__} {error}")
