"""The keys that sign channel tokens: an OpenID metadata document names a JWKS, fetched,
cached, refreshed daily in the background (`keep_fresh`, one of the gateway's
background loops) and at most once a minute when a token names
a key id the cache does not know (keys rotate; forged tokens name keys that do not exist, and
must not make the gateway hammer the identity provider).

Nothing here runs on the request path except a dictionary lookup, and the rate-limited fetch for
an unknown key id.

The two documents are fetched with the standard library's urllib in a thread, not with an async
HTTP client: a gateway fetches them a few times a day, and aiohttp, which nothing else in the
gateway uses, added ~8 MB to its resident memory (issue 24). As before: no redirects followed,
no proxy taken from the environment, at most `MAX_DOCUMENT_BYTES`, `FETCH_TIMEOUT_SECONDS` in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import orjson

from shared.errors import TurnstreamError

log = logging.getLogger(__name__)

REFRESH_SECONDS = 24 * 3600
"""Keys are fetched again daily, as the SDKs do."""
UNKNOWN_KEY_REFRESH_SECONDS = 60.0
"""An unknown key id fetches the keys again at most this often."""
FAILED_REFRESH_RETRY_SECONDS = 60.0
"""After a failed scheduled fetch, the next one comes this much later (not a day later)."""
FETCH_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 1024 * 1024


class KeyFetchError(TurnstreamError):
    """The metadata document or the key set could not be fetched or read."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One RSA key of the set, with the channels it is endorsed for."""

    kid: str
    key: jwt.PyJWK
    endorsements: frozenset[str]
    """Channel ids the Bot Framework endorses this key for (empty if the key names none)."""


class OpenIdKeys:
    """The signing keys published behind one OpenID metadata URL.

    `start()` fetches them; `keep_fresh()` refreshes them daily; `get(kid)` is a lookup;
    `refresh_for(kid)` fetches again for an unknown key id, rate limited.
    """

    def __init__(self, metadata_url: str, *, name: str) -> None:
        self._metadata_url = metadata_url
        self.name = name
        self._keys: dict[str, SigningKey] = {}
        self._last_unknown_refresh = -float("inf")
        """When an unknown key id last caused a fetch (scheduled fetches do not count: a key
        rotated just after one must still be picked up)."""
        self._refreshing: asyncio.Task[bool] | None = None
        self._opener: urllib.request.OpenerDirector | None = None
        self._last_fetch_ok = False
        self.fetches = 0
        """Completed fetches of the key set (tests read it)."""

    @property
    def loaded(self) -> bool:
        """True once a key set has been fetched."""
        return bool(self._keys)

    async def start(self) -> None:
        """Fetch the keys once (a failure is logged: tokens get 503 until a fetch succeeds)."""
        self._opener = _opener()
        await self._refresh()

    async def keep_fresh(self) -> None:
        """Fetch the keys again daily (a minute after a failed fetch), until cancelled."""
        while True:
            await asyncio.sleep(
                REFRESH_SECONDS if self._last_fetch_ok else FAILED_REFRESH_RETRY_SECONDS
            )
            await self._refresh()

    async def aclose(self) -> None:
        """After `keep_fresh` stopped: end a fetch for an unknown key id."""
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing

    def get(self, kid: str) -> SigningKey | None:
        return self._keys.get(kid)

    async def refresh_for(self, kid: str) -> SigningKey | None:
        """Fetch the keys again if the last attempt is over a minute old (or one is under way),
        then look `kid` up. Raises `KeyFetchError` if no key set could be fetched at all."""
        now = time.monotonic()
        if self._refreshing is None and now - self._last_unknown_refresh >= (
            UNKNOWN_KEY_REFRESH_SECONDS
        ):
            self._last_unknown_refresh = now
            log.info("%s: token names unknown key id %r; fetching the keys again", self.name, kid)
            self._refreshing = asyncio.create_task(self._refresh())
            self._refreshing.add_done_callback(self._refresh_done)
        if self._refreshing is not None:
            # Shielded: one caller going away must not cancel the fetch the others await.
            await asyncio.shield(self._refreshing)
        if not self._keys:
            raise KeyFetchError(f"{self.name}: no signing keys could be fetched")
        return self._keys.get(kid)

    def _refresh_done(self, task: asyncio.Task[bool]) -> None:
        self._refreshing = None

    async def _refresh(self) -> bool:
        try:
            keys = await self._fetch()
        except KeyFetchError as e:
            log.error("%s: could not refresh the token signing keys: %s", self.name, e)
            self._last_fetch_ok = False
            return False
        self._last_fetch_ok = True
        self._keys = keys
        self.fetches += 1
        log.info("%s: %d token signing keys loaded", self.name, len(keys))
        return True

    async def _fetch(self) -> dict[str, SigningKey]:
        metadata = await self._get_json(self._metadata_url)
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not _acceptable_url(jwks_uri):
            raise KeyFetchError("metadata has no usable jwks_uri (https, or http on loopback)")
        key_set = await self._get_json(jwks_uri)
        entries = key_set.get("keys")
        if not isinstance(entries, list):
            raise KeyFetchError("key set has no keys list")
        keys = {}
        for entry in entries:
            key = _signing_key(entry)
            if key is not None:
                keys[key.kid] = key
        if not keys:
            raise KeyFetchError("key set holds no usable RSA signing key")
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        opener = self._opener
        assert opener is not None, "start() first"
        try:
            async with asyncio.timeout(FETCH_TIMEOUT_SECONDS):
                status, body = await _in_daemon_thread(_download, opener, url)
        except (OSError, http.client.HTTPException, ValueError) as e:  # TimeoutError included
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            cause = reason if isinstance(reason, BaseException) else e  # the socket's error
            raise KeyFetchError(f"GET {url} failed: {type(cause).__name__}") from e
        if status != 200:
            raise KeyFetchError(f"GET {url} answered {status}")
        if len(body) > MAX_DOCUMENT_BYTES:
            raise KeyFetchError(f"GET {url}: document larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise KeyFetchError(f"GET {url}: not JSON") from e
        if not isinstance(doc, dict):
            raise KeyFetchError(f"GET {url}: not a JSON object")
        return doc


def _opener() -> urllib.request.OpenerDirector:
    """http and https only, certificates checked against the system's CAs (one context, loaded
    once); without a proxy handler (none is taken from the environment) and without a redirect
    handler (a 3xx is answered as the status it is: nothing but the configured and published
    documents is fetched)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _in_daemon_thread(
    download: Callable[[urllib.request.OpenerDirector, str], tuple[int, bytes]],
    opener: urllib.request.OpenerDirector,
    url: str,
) -> asyncio.Future[tuple[int, bytes]]:
    """`download(opener, url)` in a thread of its own, as a future of the running loop. A daemon
    thread, not the loop's executor: a fetch given up (timeout, cancel, shutdown) must not hold
    the process's exit until its socket times out."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[tuple[int, bytes]] = loop.create_future()

    def settle(outcome: tuple[int, bytes] | BaseException) -> None:
        if future.done():  # given up meanwhile
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def run() -> None:
        outcome: tuple[int, bytes] | BaseException
        try:
            outcome = download(opener, url)
        except Exception as e:
            outcome = e
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="openid-fetch", daemon=True).start()
    return future


def _download(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, bytes]:
    """(status, at most MAX_DOCUMENT_BYTES + 1 bytes of the body); runs in a thread."""
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            return int(response.status), response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as e:  # any status but 2xx, a redirect's included
        e.close()
        return e.code, b""


def _signing_key(entry: object) -> SigningKey | None:
    """An RSA signature key of the set, or None for anything else (skipped, as the SDKs do)."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
        return None
    endorsements = entry.get("endorsements", [])
    if not isinstance(endorsements, list):
        endorsements = []
    try:
        key = jwt.PyJWK({k: v for k, v in entry.items() if k != "endorsements"}, "RS256")
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        log.warning("skipping signing key %r: not a usable RSA key", kid)
        return None
    return SigningKey(kid, key, frozenset(e for e in endorsements if isinstance(e, str)))


def _acceptable_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
