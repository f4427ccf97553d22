"""End-to-end stateful turns, turnstream vs botbuilder-python 4.17.1 with in-memory state:
`python -m benchmarks.stateful_e2e [--conversations 200] [--messages 10] [--repeat 2]`.
See benchmarks/README.md.

The state management sample (samples/state_management.py) on turnstream (gateway + 1 worker +
valkey) and on botbuilder's BotFrameworkAdapter with MemoryStorage (benchmarks/peer_state.py),
the same HTTP load on both, whole-system CPU per turn side by side. The machinery (processes,
the load, the connector stand-in, CPU per process) is echo_turns'.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from benchmarks.echo_turns import (
    HOST,
    PEER_ADAPTERS,
    CaseResult,
    Load,
    ensure_peer_venv,
    measure,
    peer_system,
    post_load,
    print_case,
    started,
    turnstream_system,
)
from benchmarks.harness import (
    BenchError,
    cpu_seconds,
    cpu_ticks,
    machine,
    machine_line,
    pin_all_threads,
    process_cpu_times,
    py_spy_binary,
)
from benchmarks.profiling import Profile, summarize_folded
from benchmarks.reply_sink import PROBE, TEXTS_PATH
from benchmarks.stateful_turns import BOT, TARGET_WORKER_CPU_US
from benchmarks.stateful_turns import activity as stateful_activity
from turnstream.embedded import EmbeddedRedis, free_port

PEER_SCRIPT = Path(__file__).resolve().parent / "peer_state.py"
PEER_MODE = "bfa"  # BotFrameworkAdapter: the reference (CloudAdapter costs far more)
SUT_CPU, LOAD_CPU = 0, 1
"""The system under test on one CPU; this process (the load) and the connector on the other."""
TARGET_CPU_RATIO = 5.0  # turnstream's CPU per stateful turn at most 1/5 of botbuilder's
PROBE_MESSAGES = 2
"""Messages after hi + name in the conversation whose replies are compared, text for text."""
SATURATED, OTHERS_NOISY = 0.90, 0.10
EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 130
TURNSTREAM_SETTINGS = {"TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS": "0"}
"""The load queues turns for seconds: their typing indicators, which botbuilder does not send,
would be extra replies (and extra work) on one side only."""


@dataclass(frozen=True)
class Options:
    conversations: int
    messages: int
    warmup_messages: int
    repeat: int
    spread: bool
    peer_venv: Path
    profile_dir: Path | None
    json_path: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    default_venv = Path.home() / ".cache" / "turnstream-bench" / "botbuilder-4.17"
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stateful_e2e",
        description="The state management sample end to end: turns/s and whole-system CPU per "
        "turn of turnstream (gateway + 1 worker + valkey) vs botbuilder-python 4.17.1 "
        "(BotFrameworkAdapter, MemoryStorage).",
    )
    add = parser.add_argument
    add("--conversations", type=int, default=200, help="conversations, one user each (200)")
    add("--messages", type=int, default=10, help="messages after hi + name, each (10)")
    add("--warmup-messages", type=int, default=1, help="the same for the uncounted warm-up (1)")
    add("--repeat", type=int, default=2, help="measured rounds, sides alternating (2)")
    add(
        "--spread",
        action="store_true",
        help="do not pin: every process may use every CPU (as echo_turns runs), for comparison",
    )
    add("--peer-venv", type=Path, default=default_venv, help=f"botbuilder venv ({default_venv})")
    add(
        "--profile",
        type=Path,
        dest="profile_dir",
        help="then one uncounted turnstream round with py-spy on the gateway and the worker; "
        "raw stacks into this directory",
    )
    add("--json", type=Path, dest="json_path", help="also write the results here")
    opts = Options(**vars(parser.parse_args(argv)))
    if min(opts.conversations, opts.messages, opts.repeat) < 1 or opts.warmup_messages < 0:
        parser.error("numbers must be >= 1 (--warmup-messages >= 0)")
    return opts


def state_load(conversations: int, messages: int) -> Load:
    """Each conversation: "hi" (1 reply: the name is asked), a name (1 reply), then `messages`
    messages (3 replies each); every message carries a new timestamp, so every turn writes
    conversation state."""
    return Load(
        turns=conversations * (messages + 2),
        conversations=conversations,
        replies=conversations * (2 + 3 * messages),
        build=stateful_activity,
    )


# -- same replies on both sides -----------------------------------------------------------------


Said = list[list[str | None]]
"""Per turn of a conversation, the texts of its replies in order of arrival."""


def probe(url: str, connector_url: str, side: str) -> Said:
    """One conversation through the system; what reached the connector, turn by turn."""
    tag = f"{PROBE.decode()}-{side}-{uuid.uuid4().hex[:8]}"
    load = state_load(1, PROBE_MESSAGES)
    failures, _ = post_load(url, tag, load, connector_url, 60)
    if failures:
        raise BenchError(f"{side}: {failures} non-2xx answers to the probe conversation")
    conversation = f"{tag}-conv-0"  # as stateful_turns.activity names it
    query = f"{TEXTS_PATH.decode()}?conversation={quote(conversation)}"
    with urllib.request.urlopen(connector_url + query, timeout=10) as answer:
        rows: list[tuple[str, str | None]] = orjson.loads(answer.read()) or []
    if len(rows) != load.replies:  # else two empty lists would compare equal
        raise BenchError(
            f"{side}: the connector kept {len(rows)} probe replies, not {load.replies}"
        )
    said: Said = [[] for _ in range(load.turns)]
    prefix = f"{tag}-0-"  # stateful_turns.activity's ids: f"{tag}-{conversation}-{n}"
    for replied_to, text in rows:
        if not replied_to.startswith(prefix):
            raise BenchError(f"{side}: a reply to {replied_to!r}, not to a probe message")
        said[int(replied_to.removeprefix(prefix))].append(text)
    return said


def check_same_replies(ours: Said, theirs: Said) -> None:
    """BenchError unless both said the same, turn by turn: else the CPU per turn compares
    different work."""
    if ours == theirs:
        return
    lines = [
        f"  turn {n}: turnstream {a!r}\n          botbuilder {b!r}"
        for n, (a, b) in enumerate(zip(ours, theirs, strict=True))
        if a != b
    ]
    raise BenchError("the two bots' replies differ (MISMATCH):\n" + "\n".join(lines))


# -- one round of one side ----------------------------------------------------------------------


System = contextlib.AbstractContextManager[tuple[str, dict[str, int]]]
"""echo_turns' turnstream_system or peer_system: (its /api/messages URL, pids by process)."""


@contextlib.contextmanager
def warm(system: System, opts: Options, connector_url: str) -> Iterator[tuple[str, dict[str, int]]]:
    """The system started, pinned to SUT_CPU (unless --spread), warmed up by --warmup-messages
    over every conversation (uncounted)."""
    with system as (url, pids):
        if not opts.spread:
            for pid in pids.values():
                pin_all_threads(pid, {SUT_CPU})
        if opts.warmup_messages:
            warmup = state_load(opts.conversations, opts.warmup_messages)
            post_load(url, f"w{uuid.uuid4().hex[:8]}", warmup, connector_url, 300)
        yield url, pids


@dataclass
class Round:
    result: CaseResult
    sut_busy: float
    """The system's own CPU / wall time of the measured part: near 1 means its CPU was full."""
    others_busy: float
    """CPU time other processes took on the system's CPU meanwhile, as a share of wall time."""
    pinned: bool

    @property
    def label(self) -> str:
        """Why turns/s is not the system's capacity on one CPU, if it is not."""
        if not self.pinned:
            return "NOT PINNED"
        if self.others_busy > OTHERS_NOISY:
            return "CPU SHARED"
        return "" if self.sut_busy >= SATURATED else "LOAD-BOUND"


def run_round(name: str, system: System, opts: Options, connector_url: str) -> tuple[Round, Said]:
    """What the system says to the probe conversation, then the measured load."""
    with warm(system, opts, connector_url) as (url, pids):
        said = probe(url, connector_url, name.lower())
        before = cpu_ticks()
        load = state_load(opts.conversations, opts.messages)
        result = measure(name, url, pids, connector_url, load, None)
        busy, elapsed = cpu_seconds(before, cpu_ticks(), SUT_CPU)
    if result.non_2xx:
        raise BenchError(f"{name}: {result.non_2xx} non-2xx answers")
    own = result.cpu_us_per_turn * result.turns / 1e6
    others = max(0.0, busy - own) / elapsed
    return Round(result, own / elapsed, others, pinned=not opts.spread), said


def print_round(r: Round) -> None:
    print_case(r.result)
    if r.pinned:
        label = f"  {r.label}: turns/s is not a capacity" if r.label else ""
        print(
            f"{'':<20} system CPU {r.sut_busy:.0%} busy, other processes {r.others_busy:.0%} "
            f"of it{label}"
        )
    else:
        print(f"{'':<20} NOT PINNED: the system used {r.sut_busy:.0%} of one CPU")


# -- profiles -----------------------------------------------------------------------------------

SAMPLES_PER_S = 250


@contextlib.contextmanager
def sampled(pids: dict[str, int], out: Path) -> Iterator[dict[str, Path]]:
    """py-spy recording each process of `pids` until the block ends: {name: its raw stacks}."""
    binary = py_spy_binary()
    assert binary is not None
    spies: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name, pid in pids.items():
        path = out / f"{name}.folded"
        # --nonblocking: sampling must not pause the process, or it would measure itself.
        # --gil: a thread that wrote to a socket and lost the CPU to the process it woke (valkey,
        # on the same CPU) would otherwise count as busy in the write for as long as it waits.
        command = [binary, "record", "--pid", str(pid), "--format", "raw", "--output", str(path),
                   "--rate", str(SAMPLES_PER_S), "--nonblocking", "--gil"]  # fmt: skip
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        spies[name] = spy, path
    try:
        yield {name: path for name, (_, path) in spies.items()}
    finally:
        for spy, _ in spies.values():
            spy.send_signal(signal.SIGINT)  # py-spy writes its output, then exits
        for name, (spy, path) in spies.items():
            _, err = spy.communicate(timeout=60)
            if not path.exists():
                raise BenchError(f"py-spy on {name} wrote nothing: {err.decode(errors='replace')}")


@dataclass(frozen=True)
class ProcessProfile:
    profile: Profile
    """Shares of py-spy's samples, scaled to the process's user CPU per turn."""
    kernel_us_per_turn: float
    """Its system CPU per turn: time in system calls, which the samples do not see."""


def profile_turnstream(
    system: System, opts: Options, connector_url: str, out: Path
) -> list[ProcessProfile]:
    """An uncounted round with py-spy on the gateway and the worker: their user CPU per turn by
    innermost Python frame, their kernel CPU beside it."""
    load = state_load(opts.conversations, opts.messages)
    with warm(system, opts, connector_url) as (url, pids):
        python = {name: pids[name] for name in ("gateway", "worker")}
        before = {name: process_cpu_times(pid) for name, pid in python.items()}
        with sampled(python, out) as paths:
            post_load(url, f"p{uuid.uuid4().hex[:8]}", load, connector_url, 300)
            after = {name: process_cpu_times(pid) for name, pid in python.items()}
    profiles = []
    for name, path in paths.items():
        (user_before, kernel_before), (user, kernel) = before[name], after[name]
        per_turn = 1e6 / load.turns
        profile = summarize_folded(name, path, load.turns, (user - user_before) * per_turn)
        profiles.append(ProcessProfile(profile, (kernel - kernel_before) * per_turn))
    return profiles


def print_profile(process: ProcessProfile, top: int = 15) -> None:
    """User CPU µs per turn of the process's busiest components and functions (innermost frame).
    Shares are of samples where Python held the GIL: a thread waiting in a system call is left
    out (its kernel time is printed apart), but one preempted while holding it is counted, so
    when the samples cover more time than the process's CPU, other work shared its CPU."""
    p = process.profile
    print(
        f"\n-- py-spy, {p.case}: {p.server_cpu_us_per_req:.0f} us user CPU per turn (below) + "
        f"{process.kernel_us_per_turn:.0f} us kernel; {p.samples} samples "
        f"({p.samples / SAMPLES_PER_S:.2f} s sampled for "
        f"{p.server_cpu_us_per_req * p.requests / 1e6:.2f} s of user CPU); stacks in {p.path}"
    )
    for component, share in list(p.components.items())[:top]:
        print(f"  {share:6.1%} {p.us_per_request(component):6.1f} us/turn  {component}")
    print("  busiest functions:")
    for function, share in p.functions[:top]:
        print(f"  {share:6.1%} {share * p.server_cpu_us_per_req:6.1f} us/turn  {function}")


# -- the run ------------------------------------------------------------------------------------


def run(opts: Options) -> dict[str, Any]:
    python = ensure_peer_venv(opts.peer_venv)
    peer_name = PEER_ADAPTERS[PEER_MODE]
    load = state_load(opts.conversations, opts.messages)
    print(f"machine: {machine_line()}")
    print(
        f"{load.turns} turns of {BOT} per round ({opts.conversations} conversations x "
        f"{opts.messages + 2}, {load.replies} replies), turnstream vs botbuilder 4.17.1's "
        f"{peer_name} with MemoryStorage; "
        + (
            "nothing pinned (--spread)"
            if opts.spread
            else f"system on CPU {SUT_CPU}, load and connector on CPU {LOAD_CPU}"
        ),
        flush=True,
    )
    results: dict[str, Any] = {"machine": machine(), "options": asdict(opts)}
    sink_port = free_port()
    sink = [sys.executable, "-m", "benchmarks.reply_sink", str(sink_port)]
    with (
        tempfile.TemporaryDirectory(prefix="stateful-e2e-") as tmp,
        EmbeddedRedis(appendonly=False) as server,
        started(sink, dict(os.environ), Path(tmp) / "connector.log", sink_port),
    ):
        logs, connector_url = Path(tmp), f"http://{HOST}:{sink_port}"

        def turnstream() -> System:
            return turnstream_system(server, logs, "turnstream", BOT, settings=TURNSTREAM_SETTINGS)

        def peer() -> System:
            return peer_system(PEER_MODE, python, logs, PEER_SCRIPT)

        rounds: dict[str, list[Round]] = {"turnstream": [], peer_name: []}
        for n in range(opts.repeat):  # the sides alternate: drift on the machine hits both
            said = {}
            for name, system in (("turnstream", turnstream), (peer_name, peer)):
                round_, said[name] = run_round(name, system(), opts, connector_url)
                rounds[name].append(round_)
                print_round(round_)
            check_same_replies(said["turnstream"], said[peer_name])
            results["replies_compared"] = said["turnstream"]
            ratio = (
                rounds[peer_name][n].result.cpu_us_per_turn
                / rounds["turnstream"][n].result.cpu_us_per_turn
            )
            print(
                f"round {n + 1}: same replies on both sides; CPU per turn {peer_name} / "
                f"turnstream = {ratio:.2f}x",
                flush=True,
            )
        results["rounds"] = {
            name: [
                asdict(r.result)
                | {"sut_busy": r.sut_busy, "others_busy": r.others_busy, "label": r.label}
                for r in rs
            ]
            for name, rs in rounds.items()
        }
        results["summary"] = summarize(rounds, peer_name)
        if opts.profile_dir is not None:
            opts.profile_dir.mkdir(parents=True, exist_ok=True)
            for profile in profile_turnstream(turnstream(), opts, connector_url, opts.profile_dir):
                print_profile(profile)
    return results


def summarize(rounds: dict[str, list[Round]], peer_name: str) -> dict[str, Any]:
    """Print and return the medians over rounds, the ratio, the worker's part."""
    medians = {name: median_case(name, [r.result for r in rs]) for name, rs in rounds.items()}
    ours, theirs = medians["turnstream"], medians[peer_name]
    ratios = [
        b.result.cpu_us_per_turn / a.result.cpu_us_per_turn
        for a, b in zip(rounds["turnstream"], rounds[peer_name], strict=True)
    ]
    ratio = theirs.cpu_us_per_turn / ours.cpu_us_per_turn
    worker = ours.cpu_us_per_turn_by_process["worker"]
    print(f"\n== median of {len(ratios)} round(s) ==")
    for case in medians.values():
        print_case(case)
    verdict = "meets" if ratio >= TARGET_CPU_RATIO else "MISSES"
    print(
        f"CPU per stateful turn: {peer_name} / turnstream = {ratio:.2f}x ({verdict} the target "
        f">= {TARGET_CPU_RATIO:g}x); per round: {', '.join(f'{r:.2f}x' for r in ratios)}\n"
        f"worker {worker:.0f} us per turn end to end, {worker / ours.cpu_us_per_turn:.0%} of "
        f"turnstream's (stateful_turns' worker target, on a prefilled stream: <= "
        f"{TARGET_WORKER_CPU_US} us once running)"
    )
    return {
        "median": {name: asdict(case) for name, case in medians.items()},
        "cpu_ratio": ratio,
        "cpu_ratio_per_round": ratios,
        "target_cpu_ratio": TARGET_CPU_RATIO,
        "worker_cpu_us_per_turn": worker,
    }


def median_case(name: str, results: list[CaseResult]) -> CaseResult:
    """Per figure, the median over rounds (each process's CPU on its own)."""

    def mid(values: list[float]) -> float:
        return statistics.median(values)

    processes = results[0].cpu_us_per_turn_by_process
    by_process = {p: mid([r.cpu_us_per_turn_by_process[p] for r in results]) for p in processes}
    return CaseResult(
        case=name,
        turns=results[0].turns,
        seconds=mid([r.seconds for r in results]),
        turns_per_second=mid([r.turns_per_second for r in results]),
        cpu_us_per_turn=mid([r.cpu_us_per_turn for r in results]),
        cpu_us_per_turn_by_process=by_process,
        rss_mib={p: mid([r.rss_mib[p] for r in results]) for p in results[0].rss_mib},
        non_2xx=sum(r.non_2xx for r in results),
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux") or not {SUT_CPU, LOAD_CPU} <= os.sched_getaffinity(0):
        print(f"needs Linux and CPUs {SUT_CPU} and {LOAD_CPU}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    if opts.profile_dir is not None and py_spy_binary() is None:
        print("--profile needs py-spy: pip install py-spy (into this virtualenv)", file=sys.stderr)
        return EXIT_ENVIRONMENT
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind every `finally`
    if not opts.spread:  # the connector and (until pinned) the system inherit it
        os.sched_setaffinity(0, {LOAD_CPU})
    try:
        results = run(opts)
    except BenchError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    if opts.json_path:
        opts.json_path.write_text(json.dumps(results, indent=2, default=str))
        print(f"results written to {opts.json_path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
