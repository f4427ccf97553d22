"""The bot's outbound token: OAuth 2.0 client credentials for the Bot Connector's scope.

One token serves every worker: it is cached in process and shared through Redis, so a fleet of
workers asks the token endpoint about once an hour, not once per process. It is refreshed ahead
of its expiry (in the background while the current one is still good), and one fetch happens
at a time: in a process, callers share one task; across processes, the worker holding a short
Redis lock fetches and the others wait for its result. If Redis is unreachable, each process
fetches for itself rather than fail the turn.

The token is a credential: it is never logged, and Redis holds it only until it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from redis.exceptions import RedisError

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from worker.connector.errors import TokenUnavailable
from worker.connector.keepalive_http import KeepAliveHttp, Target

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
REFRESH_AHEAD_SECONDS = 600.0
"""A token is renewed once less than this (or half its lifetime) is left."""
MIN_REMAINING_SECONDS = 60.0
"""A token with less than this (or a quarter of its lifetime) left is not handed out."""
LOCK_SECONDS = 15.0
WAIT_FOR_OTHER_SECONDS = 10.0
POLL_SECONDS = 0.05
MAX_RESPONSE_BYTES = 64 * 1024
MAX_LIFETIME_SECONDS = 24 * 3600

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: float
    """Wall-clock seconds (shared across processes)."""
    refresh_at: float
    """After this, a new token is fetched (the current one still serves meanwhile)."""

    def usable(self, now: float) -> bool:
        lifetime_left = self.expires_at - now
        return lifetime_left > min(MIN_REMAINING_SECONDS, (self.expires_at - self.refresh_at) / 2)

    def encode(self) -> bytes:
        return orjson.dumps({"t": self.value, "e": self.expires_at, "r": self.refresh_at})

    @classmethod
    def decode(cls, raw: bytes) -> AccessToken | None:
        try:
            doc = orjson.loads(raw)
            return cls(str(doc["t"]), float(doc["e"]), float(doc["r"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None


class ClientCredentialsTokens:
    """`await tokens.token()` is a valid bearer token for the Bot Connector."""

    def __init__(
        self,
        *,
        http: KeepAliveHttp,
        redis: Redis,
        keys: Keyspace,
        token_url: str,
        app_id: str,
        app_password: str,
        scope: str = BOT_FRAMEWORK_SCOPE,
    ) -> None:
        self._http = http
        self._redis = redis
        self._token_url = token_url
        self._endpoint = Target.of(token_url)
        self._form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": app_id,
                "client_secret": app_password,
                "scope": scope,
            }
        ).encode()
        credential = hashlib.sha256(f"{app_id}\0{token_url}\0{scope}".encode()).hexdigest()[:32]
        self._key = keys.outbound_token(credential)
        self._lock_key = keys.outbound_token_lock(credential)
        self._current: AccessToken | None = None
        self._refreshing: asyncio.Task[AccessToken] | None = None
        self.fetches = 0
        """Requests this process made to the token endpoint (tests read it)."""

    async def token(self) -> str:
        current, now = self._current, time.time()
        if current is not None and now < current.refresh_at:
            return current.value
        if current is not None and current.usable(now):
            self._start_refresh()  # renew ahead of expiry; this one still serves
            return current.value
        # Shielded: a cancelled turn must not cancel the fetch other turns wait for.
        token = await asyncio.shield(self._start_refresh())
        return token.value

    async def aclose(self) -> None:
        """End a renewal under way (before its session is closed)."""
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # logged when done
                await self._refreshing

    def _start_refresh(self) -> asyncio.Task[AccessToken]:
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh())
            self._refreshing.add_done_callback(self._refresh_done)
        return self._refreshing

    def _refresh_done(self, task: asyncio.Task[AccessToken]) -> None:
        self._refreshing = None
        if not task.cancelled() and task.exception() is not None:
            log.error("could not renew the bot's outbound token: %s", task.exception())

    async def _refresh(self) -> AccessToken:
        shared = await self._read_shared()
        if shared is not None:
            return self._use(shared)
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        while time.monotonic() < deadline:
            locked = await self._try_lock(owner)
            if locked is None:
                break  # no Redis: fetch for this process alone
            if locked:
                try:
                    # Another worker may have stored a new token between our read and our lock.
                    shared = await self._read_shared()
                    if shared is not None:
                        return self._use(shared)
                    return self._use(await self._fetch_and_share())
                finally:
                    await self._unlock(owner)
            await asyncio.sleep(POLL_SECONDS)  # another worker is fetching: wait for it
            shared = await self._read_shared()
            if shared is not None:
                return self._use(shared)
        return self._use(await self._fetch_and_share())

    def _use(self, token: AccessToken) -> AccessToken:
        self._current = token
        return token

    async def _read_shared(self) -> AccessToken | None:
        """A token in Redis that is not yet due for renewal."""
        try:
            raw = await self._redis.get(self._key)
        except (RedisError, OSError):
            return None
        token = AccessToken.decode(raw.encode() if isinstance(raw, str) else raw) if raw else None
        return token if token is not None and time.time() < token.refresh_at else None

    async def _try_lock(self, owner: str) -> bool | None:
        try:
            return bool(
                await self._redis.set(self._lock_key, owner, nx=True, px=int(LOCK_SECONDS * 1000))
            )
        except (RedisError, OSError):
            return None

    async def _unlock(self, owner: str) -> None:
        try:
            await self._redis.eval(_RELEASE_LOCK, 1, self._lock_key, owner)
        except (RedisError, OSError):
            pass  # the lock expires on its own

    async def _fetch_and_share(self) -> AccessToken:
        token = await self._fetch()
        ttl_ms = int((token.expires_at - time.time()) * 1000)
        if ttl_ms > 0:
            try:
                await self._redis.set(self._key, token.encode(), px=ttl_ms)
            except (RedisError, OSError):
                pass  # this process still has it
        return token

    async def _fetch(self) -> AccessToken:
        self.fetches += 1
        endpoint = self._endpoint
        try:
            # Never redirected: the keep-alive client does not follow a 3xx, which then fails
            # below like any answer but 200 (the secret must not be sent anywhere else).
            status, body, _ = await self._http.request(
                "POST",
                endpoint.scheme,
                endpoint.host,
                endpoint.port,
                endpoint.path,
                {"Content-Type": "application/x-www-form-urlencoded"},
                self._form,
                max_body=MAX_RESPONSE_BYTES,
            )
        except (TimeoutError, OSError) as e:
            raise TokenUnavailable(f"token endpoint unreachable: {type(e).__name__}") from e
        doc = _json_object(body)
        if status != 200:
            code = doc.get("error")
            reason = code[:64] if isinstance(code, str) else "no error code"
            raise TokenUnavailable(f"token endpoint answered {status} ({reason})")
        value, lifetime = doc.get("access_token"), _seconds(doc.get("expires_in"))
        if not isinstance(value, str) or not value or lifetime is None:
            raise TokenUnavailable("token endpoint answered without access_token and expires_in")
        now = time.time()
        log.info("obtained a new outbound token, valid for %d s", lifetime)
        return AccessToken(
            value, now + lifetime, now + lifetime - min(REFRESH_AHEAD_SECONDS, lifetime / 2)
        )


def _json_object(body: bytes) -> dict[str, object]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _seconds(raw: object) -> int | None:
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return min(raw, MAX_LIFETIME_SECONDS)
    return None
