"""A Redis client for bot-side stores (state, transcripts), given or opened on first use."""

from __future__ import annotations

import os

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis, connect, decodes_responses, is_cluster
from shared.settings import Settings
from worker.errors import WorkerError


class LazyRedis:
    """The client passed in (the caller keeps owning it), or one opened on first use from `url`
    or `REDIS_URL`: a bot module can build its stores at import time, before the worker's event
    loop runs or the dev stack has set `REDIS_URL`. Keys go under `key_prefix` (default:
    `TURNSTREAM_KEY_PREFIX`, else `turnstream`)."""

    def __init__(
        self,
        client: Redis | None = None,
        *,
        url: str | None = None,
        key_prefix: str | None = None,
        missing_url: type[WorkerError] = WorkerError,
    ) -> None:
        if client is not None and url is not None:
            raise ValueError("pass either a client or a url, not both")
        if client is not None and decodes_responses(client):
            raise ValueError("the Redis client must have decode_responses=False: data is bytes")
        self._client = client
        self._owns_client = client is None
        self._url = url
        self._key_prefix = key_prefix
        self._keys: Keyspace | None = None
        self._missing_url = missing_url

    def client(self) -> Redis:
        if self._client is None:
            settings = Settings.from_env(os.environ)
            url = self._url or settings.redis_url
            if not url:
                raise self._missing_url("no Redis URL: pass client= or url=, or set REDIS_URL")
            self._client = connect(settings, url=url)
        return self._client

    def keys(self) -> Keyspace:
        if self._keys is None:
            settings = Settings.from_env(os.environ)
            prefix = self._key_prefix or settings.key_prefix
            if is_cluster(self.client()):
                # Conversation state goes to its shard's slot: the shard count must be the one
                # the workers use (TURNSTREAM_SHARDS).
                self._keys = Keyspace(prefix, settings.shards, cluster=True)
            else:
                self._keys = Keyspace(prefix, 1)  # bot-side keys are not sharded
        return self._keys

    @property
    def on_worker_server(self) -> bool:
        """True when the client is (or will be) opened from REDIS_URL: the server the worker's
        streams are on, which the worker's own connections reach too."""
        return self._owns_client and self._url is None

    @property
    def opened(self) -> bool:
        return self._client is not None

    async def aclose(self) -> None:
        """Close a client opened here (one passed in stays open); a later use opens a new one,
        so a store built at import time survives its event loop being replaced."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
