"""Microsoft's Web Chat client for browser tests: the `botframework-webchat` package's browser
bundle (`dist/webchat.js`, self-contained), fetched from the npm registry once, checked against
the registry's sha512 integrity, and kept in a cache folder. No node or npm is needed: the
tarball is one HTTPS download (~7 MB), of which only the bundle is kept."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path

WEBCHAT_VERSION = "4.18.1"
"""The stable release npm installs (its `latest` tag, 2026-12)."""
WEBCHAT_INTEGRITY = (
    "sha512-7jpEUJ7olT62Xm+8eh7BhhIcXVfU2xD4pZDaeBt8K4XcNy6K/83UGIxE9BFkXmHMZ4hDEVOzs5cre07GWuaXzg"
    "=="
)
"""`npm view botframework-webchat@4.18.1 dist.integrity`."""
_TARBALL = (
    f"https://registry.npmjs.org/botframework-webchat/-/botframework-webchat-{WEBCHAT_VERSION}.tgz"
)
_BUNDLE = "package/dist/webchat.js"


def cache_folder() -> Path:
    """TURNSTREAM_TEST_CACHE, else ~/.cache/turnstream-tests."""
    explicit = os.environ.get("TURNSTREAM_TEST_CACHE")
    return Path(explicit) if explicit else Path.home() / ".cache" / "turnstream-tests"


def webchat_bundle() -> bytes:
    """Web Chat's browser bundle, from the cache or (once) from the npm registry. Raises if the
    download fails or its digest is not the pinned one: a test must not run another client."""
    cached = cache_folder() / f"webchat-{WEBCHAT_VERSION}.js"
    if cached.exists():
        return cached.read_bytes()
    with urllib.request.urlopen(_TARBALL, timeout=60) as response:
        tarball = response.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != WEBCHAT_INTEGRITY:
        raise RuntimeError(f"{_TARBALL}: integrity {digest}, expected {WEBCHAT_INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(_BUNDLE)
        if member is None:
            raise RuntimeError(f"{_TARBALL} has no {_BUNDLE}")
        bundle = member.read()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(bundle)
    partial.replace(cached)  # atomic: parallel test processes may fetch it at once
    return bundle
