"""What every benchmark here needs around the code it measures: processes pinned to CPUs and
tied to our life, CPU time read from /proc (per process and per CPU), waiting for other work on
the benchmark CPUs to finish before a run (the noise guard), py-spy and package versions.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


class BenchError(Exception):
    """The benchmark could not produce a trustworthy number; the message says why."""


def py_spy_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


def child_setup(cpus: set[int] | None) -> Callable[[], None]:
    """Runs in the child before exec: pin it (every later thread inherits the mask) and have the
    kernel SIGTERM it if we die, even by kill -9, so no server or wrk outlives the benchmark."""

    def setup() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    return setup


def pin_all_threads(pid: int, cpus: set[int]) -> None:
    """sched_setaffinity(pid) moves only the main thread; valkey starts I/O and bio threads
    before we can reach it, so pin each of them too, and check."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread may end meanwhile
            os.sched_setaffinity(int(tid), cpus)
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            if os.sched_getaffinity(int(tid)) != cpus:
                raise BenchError(f"could not pin thread {tid} of pid {pid} to CPUs {cpus}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of all threads of a process, from /proc/<pid>/stat."""
    return sum(process_cpu_times(pid))


def process_cpu_times(pid: int) -> tuple[float, float]:
    """(utime, stime) of all threads of a process, from /proc/<pid>/stat: user and kernel CPU
    seconds (the kernel's: system calls such as socket reads and writes)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


Ticks = dict[int, tuple[int, int]]


def cpu_ticks() -> Ticks:
    """Per CPU: (busy ticks, all ticks), from /proc/stat; busy excludes idle, iowait, steal."""
    ticks: Ticks = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if not name.startswith("cpu") or name == "cpu":
                continue
            user, nice, system, idle, iowait, irq, softirq, steal = map(int, values[:8])
            busy = user + nice + system + irq + softirq
            ticks[int(name[3:])] = (busy, busy + idle + iowait + steal)
    return ticks


def cpu_seconds(before: Ticks, after: Ticks, cpu: int) -> tuple[float, float]:
    """(busy seconds, elapsed seconds) of one CPU between two /proc/stat readings."""
    busy = after[cpu][0] - before[cpu][0]
    total = after[cpu][1] - before[cpu][1]
    return busy / CLK_TCK, total / CLK_TCK


def busy_share(before: Ticks, after: Ticks, cpu: int) -> float:
    busy, total = cpu_seconds(before, after, cpu)
    return busy / total if total else 0.0


def wait_for_quiet(cpus: set[int], threshold: float = 0.15, limit: float = 60.0) -> None:
    """Between runs our own processes are idle, so load on our CPUs is someone else's work;
    give it up to `limit` seconds to finish rather than measure next to it."""
    deadline = time.monotonic() + limit
    told = False
    while True:
        before = cpu_ticks()
        time.sleep(0.5)
        after = cpu_ticks()
        load = max(busy_share(before, after, cpu) for cpu in cpus)
        if load < threshold or time.monotonic() > deadline:
            return
        if not told:
            print(
                f"  (CPUs {sorted(cpus)} are {load:.0%} busy with other work: waiting)", flush=True
            )
            told = True


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """The machine a figure was measured on: CPU model and count, kernel, Python, and the load
    average when the run started (other work on a shared machine shows up there)."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        model = next(
            (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model
        )
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "arch": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line() -> str:
    """`machine()` in one line, for a benchmark's printed report."""
    m = machine()
    load = " ".join(f"{x:.2f}" for x in m["load_average_at_start"])
    return (
        f"{m['cpu_model']} ({m['arch']}), {m['cpus']} CPUs, Python {m['python']}, "
        f"load average {load} at start"
    )
