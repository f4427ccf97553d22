"""The gateway's HTTP probes ask for paths a running gateway really serves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.k8s.consistency import http_probes
from tests.k8s.manifests import OVERLAYS, build, find, pod_spec
from tests.support.http import serving


async def unserved(probes: list[tuple[str, str]], url: str) -> list[str]:
    """The probes whose path does not answer 200 on the gateway at `url`."""
    problems = []
    async with aiohttp.ClientSession() as session:
        for place, path in probes:
            async with session.get(url + path) as response:
                if response.status != 200:
                    problems.append(f"{place}: GET {path} answers {response.status}")
    return problems


@pytest.fixture
async def gateway_url(settings: Settings) -> AsyncIterator[str]:
    async with serving(create_app(settings)) as url:
        yield url


async def test_every_http_probe_path_is_served(gateway_url: str) -> None:
    probes = sorted({probe for overlay in OVERLAYS for probe in http_probes(build(overlay))})
    assert {path for _, path in probes} == {"/healthz", "/readyz"}
    assert await unserved(probes, gateway_url) == []


async def test_a_probe_on_a_path_the_gateway_does_not_serve_is_caught(gateway_url: str) -> None:
    objects = build("dev")
    spec = pod_spec(find(objects, "Deployment", "turnstream-gateway"))
    assert spec is not None
    spec["containers"][0]["livenessProbe"]["httpGet"]["path"] = "/health"
    assert await unserved(http_probes(objects), gateway_url) == [
        "Deployment/turnstream-gateway/gateway livenessProbe: GET /health answers 404"
    ]
