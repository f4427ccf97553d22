"""Fetching the token signing keys: what the fetch refuses (redirects, proxies from the
environment, oversized or non-JSON documents, a server that never answers), over real HTTP on
loopback. The accepted path is tested end to end in test_authentication."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway import openid
from gateway.openid import MAX_DOCUMENT_BYTES, OpenIdKeys
from tests.support.http import serving
from turnstream.embedded import free_port
from turnstream.loopback_idp import LoopbackIdentityProvider


@pytest.fixture(scope="module")
def idp() -> Iterator[LoopbackIdentityProvider]:
    with LoopbackIdentityProvider() as provider:
        yield provider


@pytest.fixture
async def documents(idp: LoopbackIdentityProvider) -> AsyncIterator[str]:
    """Metadata documents that go wrong in one way each."""

    async def redirect(request: Request) -> Response:
        return RedirectResponse(idp.metadata_url, status_code=302)

    async def big(request: Request) -> Response:
        return Response(b" " * MAX_DOCUMENT_BYTES + b"{}", media_type="application/json")

    async def not_json(request: Request) -> Response:
        return Response(b"<html></html>", media_type="text/html")

    app = Starlette(
        routes=[Route("/redirect", redirect), Route("/big", big), Route("/html", not_json)]
    )
    async with serving(app) as base:
        yield base


async def fetch_error(url: str, caplog: pytest.LogCaptureFixture) -> str:
    """Start a key set on `url`; it must not load, and says why in the log."""
    keys = OpenIdKeys(url, name="test keys")
    with caplog.at_level(logging.ERROR, logger="gateway.openid"):
        await keys.start()
    await keys.aclose()
    assert not keys.loaded
    return caplog.text


async def test_the_keys_load_from_the_identity_provider(idp: LoopbackIdentityProvider) -> None:
    keys = OpenIdKeys(idp.metadata_url, name="test keys")
    await keys.start()
    await keys.aclose()
    assert keys.loaded
    assert keys.get(idp.default_kid) is not None


async def test_a_redirect_is_not_followed(
    documents: str, idp: LoopbackIdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    before = idp.counters.metadata
    assert "answered 302" in await fetch_error(f"{documents}/redirect", caplog)
    assert idp.counters.metadata == before


async def test_an_oversized_or_non_json_document_is_refused(
    documents: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert "document larger than" in await fetch_error(f"{documents}/big", caplog)
    assert "not JSON" in await fetch_error(f"{documents}/html", caplog)


async def test_a_proxy_named_by_the_environment_is_not_used(
    idp: LoopbackIdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    keys = OpenIdKeys(idp.metadata_url, name="test keys")
    await keys.start()
    await keys.aclose()
    assert keys.loaded


async def test_a_server_that_never_answers_times_out(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openid, "FETCH_TIMEOUT_SECONDS", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        port = silent.getsockname()[1]
        log = await fetch_error(f"http://127.0.0.1:{port}/metadata", caplog)
    assert "failed: TimeoutError" in log
