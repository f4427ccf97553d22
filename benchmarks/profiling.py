"""Reading py-spy's raw (folded) stacks: each sample attributed to its innermost Python frame,
summed per component (a third-party package, or a file of the stdlib or the project)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    case: str
    path: str
    samples: int
    requests: int
    server_cpu_us_per_req: float
    components: dict[str, float]
    """Share of samples per component of the innermost Python frame (see `component_of`)."""
    functions: list[tuple[str, float]]
    """The functions with the most samples as innermost frame, and their share."""

    def us_per_request(self, component: str) -> float:
        return self.components.get(component, 0.0) * self.server_cpu_us_per_req


def summarize_folded(
    case: str, path: Path, requests: int, cpu_us_per_req: float, top: int = 20
) -> Profile:
    """Attribute each sample to its innermost Python frame.

    Inclusive (whole-stack) counts mislead here: a coroutine resumed by the event loop shows
    only its own frames, not the request path that started it, so self time is what adds up.
    Time in C code (uvloop, httptools, hiredis, orjson) counts for the Python frame calling it.
    """
    components: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        leaf = stack.rsplit(";", 1)[-1].strip()
        total += count
        components[component_of(leaf)] += count
        functions[_function_of(leaf)] += count
    share = 1 / max(total, 1)
    return Profile(
        case=case,
        path=str(path),
        samples=total,
        requests=requests,
        server_cpu_us_per_req=cpu_us_per_req,
        components={name: n * share for name, n in components.most_common()},
        functions=[(name, n * share) for name, n in functions.most_common(top)],
    )


# Third-party packages are one component each; stdlib and project code are split by file,
# where the interesting differences are (asyncio/timeouts.py vs asyncio/runners.py, ...).
_PACKAGES_AS_ONE = ("uvicorn", "starlette", "redis", "msgpack", "orjson", "httptools", "uvloop")


def component_of(frame: str) -> str:
    if not frame:
        return "(no Python frame)"
    where = frame.partition(" (")[2].rsplit(":", 1)[0].rstrip(")")
    if not where:  # --nonblocking may catch a frame mid-update; rare
        return "(unreadable frame)"
    top = where.split("/", 1)[0]
    if where == "asyncio/runners.py":  # uvloop's run loop is C code under Runner.run
        return "asyncio/runners.py (uvloop C loop: epoll, socket I/O, timers)"
    return top if top in _PACKAGES_AS_ONE else where


def _function_of(frame: str) -> str:
    # "send (redis/asyncio/connection.py:123)" -> "send (redis/asyncio/connection.py)"
    name, sep, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rstrip(')')})" if sep else "(no Python frame)"
