"""A local Redis Cluster and a local Sentinel setup, from the same embedded server binary.

For tests and benchmarks of the distributed topologies (`redis+cluster://`, `redis+sentinel://`):
every process listens on 127.0.0.1, keeps its data in a temporary directory and dies with the
process that started it (see `turnstream.embedded`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from turnstream.embedded import (
    EmbeddedRedis,
    EmbeddedServerError,
    die_with_parent,
    free_port,
    server_binary,
)

SLOTS = 16384


class EmbeddedCluster:
    """`masters` masters, each with `replicas_per_master` replicas, slots split evenly.

    `node_timeout_ms` is the cluster's failure-detection time: a killed master's replica is
    promoted about two node timeouts later.
    """

    def __init__(
        self,
        masters: int = 3,
        replicas_per_master: int = 1,
        *,
        node_timeout_ms: int = 1000,
        appendonly: bool = True,
        appendfsync: str = "everysec",
    ) -> None:
        self._masters = masters
        self._replicas = replicas_per_master
        self._node_timeout = node_timeout_ms
        self._appendonly = appendonly
        self._appendfsync = appendfsync
        self.nodes: list[EmbeddedRedis] = []
        self._bus_ports: list[int] = []
        """Masters first (in slot order), then replicas (replica i of master m at
        `masters + m * replicas_per_master + i`)."""

    @property
    def url(self) -> str:
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[: self._masters])
        return f"redis+cluster://{seeds}"

    def start(self, timeout: float = 30.0) -> EmbeddedCluster:
        options = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(self._node_timeout),
            # Tests kill masters: a replica must be promoted however long it was disconnected.
            "--cluster-replica-validity-factor",
            "0",
            "--appendfsync",
            self._appendfsync,
            # Replicas sync at once instead of after the default 5 s wait for more replicas.
            "--repl-diskless-sync-delay",
            "0",
        ]
        total = self._masters * (1 + self._replicas)
        try:
            for _ in range(total):
                # The bus port defaults to port + 10000, past 65535 for high free ports.
                bus = free_port()
                args = [*options, "--cluster-port", str(bus)]
                node = EmbeddedRedis(appendonly=self._appendonly, extra_args=args)
                self.nodes.append(node.start())
                self._bus_ports.append(bus)
            self._form(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self, timeout: float) -> None:
        clients = [redis.Redis(port=node.port, socket_timeout=5) for node in self.nodes]
        try:
            per_master = SLOTS // self._masters
            for i in range(self._masters):
                first = i * per_master
                last = SLOTS - 1 if i == self._masters - 1 else first + per_master - 1
                _command(clients[i], "CLUSTER", "ADDSLOTSRANGE", first, last)
            for client in clients[1:]:
                _command(
                    client, "CLUSTER", "MEET", "127.0.0.1", self.nodes[0].port, self._bus_ports[0]
                )
            ids = [_command(client, "CLUSTER", "MYID").decode() for client in clients]
            self._wait(lambda: all(_knows(c, len(clients)) for c in clients), timeout)
            for m in range(self._masters):
                for r in range(self._replicas):
                    replica = clients[self._masters + m * self._replicas + r]
                    _command(replica, "CLUSTER", "REPLICATE", ids[m])
            self._wait(lambda: all(_state_ok(c) for c in clients), timeout)
            self._wait(lambda: self._replicas_in_sync(clients), timeout)
        finally:
            for client in clients:
                client.close()

    def _replicas_in_sync(self, clients: list[redis.Redis]) -> bool:
        for client in clients[: self._masters]:
            info = client.info("replication")
            online = [
                value
                for name, value in info.items()
                if name.startswith("slave")
                and isinstance(value, dict)
                and value.get("state") == "online"
            ]
            if len(online) < self._replicas:
                return False
        return True

    @staticmethod
    def _wait(ready: object, timeout: float) -> None:
        assert callable(ready)
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise EmbeddedServerError("the local cluster did not form in time")
            time.sleep(0.1)

    def master_of(self, key: str) -> EmbeddedRedis:
        """The node serving `key`'s slot now (asks the cluster)."""
        with redis.Redis(port=self.nodes[0].port, socket_timeout=5) as client:
            slot = int(_command(client, "CLUSTER", "KEYSLOT", key))
        for node in self.nodes:
            if node.pid is None:
                continue
            try:
                with redis.Redis(port=node.port, socket_timeout=1) as client:
                    for start, end, primary, *_ in _command(client, "CLUSTER", "SLOTS"):
                        if start <= slot <= end:
                            port = int(primary[1])
                            return next(n for n in self.nodes if n.port == port)
            except redis.RedisError:
                continue
        raise EmbeddedServerError(f"no node serves slot {slot}")

    def kill(self, node: EmbeddedRedis) -> None:
        """kill -9 one node (its pid, which this process started)."""
        if node.pid is not None:
            os.kill(node.pid, signal.SIGKILL)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until every live node reports cluster_state:ok (after a failover)."""
        live = [node for node in self.nodes if _alive(node)]
        clients = [redis.Redis(port=node.port, socket_timeout=1) for node in live]
        try:
            self._wait(lambda: all(_state_ok(c) for c in clients), timeout)
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes, self._bus_ports = [], []

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _command(client: redis.Redis, *args: str | int) -> Any:
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _knows(client: redis.Redis, count: int) -> bool:
    try:
        nodes = _command(client, "CLUSTER", "NODES").decode().strip().splitlines()
    except redis.RedisError:
        return False
    return len(nodes) == count and not any("handshake" in line for line in nodes)


def _state_ok(client: redis.Redis) -> bool:
    try:
        info = _command(client, "CLUSTER", "INFO").decode()
    except redis.RedisError:
        return False
    return "cluster_state:ok" in info


def _alive(node: EmbeddedRedis) -> bool:
    try:
        with redis.Redis(port=node.port, socket_timeout=0.5, socket_connect_timeout=0.5) as c:
            return bool(c.ping())
    except redis.RedisError:
        return False


class EmbeddedSentinels:
    """One primary, `replicas` replicas and `sentinels` Sentinels watching them (quorum 2),
    all local. `url` is the `redis+sentinel://` URL of the service `service`."""

    def __init__(
        self,
        *,
        replicas: int = 1,
        sentinels: int = 3,
        service: str = "turnstream",
        down_after_ms: int = 1000,
    ) -> None:
        self.service = service
        self._replicas = replicas
        self._sentinel_count = sentinels
        self._down_after = down_after_ms
        self.primary: EmbeddedRedis | None = None
        self.replicas: list[EmbeddedRedis] = []
        self._sentinels: list[tuple[subprocess.Popen[bytes], int]] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for _, port in self._sentinels)
        return f"redis+sentinel://{hosts}/{self.service}"

    @property
    def servers(self) -> list[EmbeddedRedis]:
        return [s for s in [self.primary, *self.replicas] if s is not None]

    def start(self, timeout: float = 30.0) -> EmbeddedSentinels:
        try:
            self.primary = EmbeddedRedis(
                appendonly=False, extra_args=["--repl-diskless-sync-delay", "0"]
            ).start()
            for _ in range(self._replicas):
                args = [
                    "--replicaof",
                    "127.0.0.1",
                    str(self.primary.port),
                    "--repl-diskless-sync-delay",
                    "0",
                ]
                self.replicas.append(EmbeddedRedis(appendonly=False, extra_args=args).start())
            self._tmp = tempfile.TemporaryDirectory(prefix="turnstream-sentinel-")
            for i in range(self._sentinel_count):
                self._sentinels.append(self._start_sentinel(Path(self._tmp.name), i))
            EmbeddedCluster._wait(self._watched, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_sentinel(self, root: Path, index: int) -> tuple[subprocess.Popen[bytes], int]:
        assert self.primary is not None
        port = free_port()
        directory = root / f"sentinel-{index}"
        directory.mkdir()
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 2\n"
            f"sentinel down-after-milliseconds {self.service} {self._down_after}\n"
            f"sentinel failover-timeout {self.service} {self._down_after * 5}\n"
        )
        process = subprocess.Popen(
            [str(server_binary()), str(config), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        return process, port

    def _watched(self) -> bool:
        """Every Sentinel knows the primary, its replicas and the other Sentinels."""
        for _, port in self._sentinels:
            try:
                with redis.Redis(port=port, socket_timeout=0.5) as client:
                    state = _command(client, "SENTINEL", "MASTER", self.service)
            except redis.RedisError:
                return False
            pairs = (
                state.items()
                if isinstance(state, dict)
                else zip(state[::2], state[1::2], strict=True)
            )
            state = {_text(k): v for k, v in pairs}
            if int(state.get("num-slaves", 0)) < self._replicas:
                return False
            if int(state.get("num-other-sentinels", 0)) < self._sentinel_count - 1:
                return False
        return True

    def current_primary_port(self) -> int:
        """What the Sentinels currently name as the primary."""
        for _, port in self._sentinels:
            try:
                with redis.Redis(port=port, socket_timeout=0.5) as client:
                    _, primary_port = _command(
                        client, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service
                    )
                    return int(primary_port)
            except redis.RedisError:
                continue
        raise EmbeddedServerError("no Sentinel answered")

    def stop(self) -> None:
        for process, _ in self._sentinels:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        self._sentinels = []
        for server in self.servers:
            server.stop()
        self.primary, self.replicas = None, []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedSentinels:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
