"""The result of a run as JSON, as a plain-text summary, and as an HTML report with plots.

The plots are Plotly figures written as one self-contained HTML file (plotly.js inlined once),
so the report opens offline and can be attached to an issue.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson

LATENCY_ROWS = (
    ("ack", "ack_latency_ms"),
    ("end-to-end", "end_to_end_latency_ms"),
    ("send lag", "send_lag_ms"),
)
"""The last row is the generator's own lateness against its schedule: part of every latency
above, so a run whose sends were late measured the generator as much as the target."""
STREAM_ROWS = (
    ("1st chunk", "time_to_first_chunk_ms"),
    ("interval", "chunk_interval_ms"),
    ("final", "time_to_final_ms"),
)
"""The streaming workload's rows: time to first chunk, chunk interval, time to final."""
PERCENTILE_GRID = (50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


def summary_text(result: dict[str, Any]) -> str:
    """The numbers a person reads first, as lines for the terminal."""
    lines = [
        f"sent {result['sent']} activities in {result['options']['duration']:g} s "
        f"to {result['options']['url']}",
        "status codes: "
        + (", ".join(f"{code} x{n}" for code, n in result["status_codes"].items()) or "none"),
    ]
    if result["errors"]:
        lines.append("errors: " + ", ".join(f"{name} x{n}" for name, n in result["errors"].items()))
    t = result["throughput"]
    lines.append(
        f"throughput: sent {t['sent_per_second']:.1f}/s, acknowledged "
        f"{t['acknowledged_per_second']:.1f}/s, replies {t['replies_per_second']:.1f}/s"
    )
    lines.append(f"{'latency ms':<12}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}")
    for label, key in LATENCY_ROWS:
        s = result[key]
        cells = "".join(f"{_cell(s[name]):>9}" for name in ("p50", "p90", "p99", "p99_9", "max"))
        lines.append(f"{label:<12}{cells}")
    streaming = result.get("streaming")
    if streaming is not None:
        for label, key in STREAM_ROWS:
            s = streaming[key]
            cells = "".join(
                f"{_cell(s[name]):>9}" for name in ("p50", "p90", "p99", "p99_9", "max")
            )
            lines.append(f"{label:<12}{cells}")
        lines.append(
            f"streams: {streaming['streams']} streamed, {streaming['finished']} finished, "
            f"{streaming['updates']} updates"
        )
    r = result["replies"]
    lines.append(
        f"replies: {r['received']} received, {r['messages_answered']}/"
        f"{r['messages_acknowledged']} messages answered, missing {r['missing']}, "
        f"duplicate {r['duplicate']}, out of order {r['out_of_order']}, "
        f"unexpected {r['unexpected']}"
    )
    lines.append("PASS" if result["passed"] else "FAIL")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_html(result: dict[str, Any], path: Path) -> None:
    """A self-contained report: the summary, latency over time, latency by percentile and
    throughput per second (sent, acknowledged, replied)."""
    import plotly.graph_objects as go  # imported here: only a report needs it

    over_time = go.Figure()
    by_percentile = go.Figure()
    for label, series in (("ack", "ack"), ("end-to-end", "end_to_end")):
        points = result["samples"][series]
        over_time.add_trace(
            go.Scattergl(
                x=[t for t, _ in points],
                y=[ms for _, ms in points],
                mode="markers",
                marker={"size": 3},
                name=label,
            )
        )
        latencies = sorted(ms for _, ms in points)
        if latencies:
            by_percentile.add_trace(
                go.Scatter(
                    x=[_nines(q) for q in PERCENTILE_GRID],
                    y=[_nearest_rank(latencies, q) for q in PERCENTILE_GRID],
                    mode="lines+markers",
                    name=label,
                    text=[f"p{q:g}" for q in PERCENTILE_GRID],
                )
            )
    over_time.update_layout(
        title="Latency over time (by intended send time)",
        xaxis_title="seconds since start",
        yaxis_title="latency (ms)",
        yaxis_type="log",
    )
    by_percentile.update_layout(
        title="Latency by percentile",
        xaxis={
            "title": "percentile",
            "type": "log",
            "tickvals": [_nines(q) for q in PERCENTILE_GRID],
            "ticktext": [f"p{q:g}" for q in PERCENTILE_GRID[:-1]] + ["max"],
        },
        yaxis_title="latency (ms)",
    )
    throughput = go.Figure()
    for label, counts in result["per_second"].items():
        throughput.add_trace(
            go.Scatter(x=list(range(len(counts))), y=counts, mode="lines", name=label)
        )
    throughput.update_layout(
        title="Throughput per second",
        xaxis_title="seconds since start",
        yaxis_title="activities / s",
    )
    plots = over_time.to_html(full_html=False, include_plotlyjs=True, div_id="latency-over-time")
    plots += by_percentile.to_html(
        full_html=False, include_plotlyjs=False, div_id="latency-by-percentile"
    )
    plots += throughput.to_html(full_html=False, include_plotlyjs=False, div_id="throughput")
    title = f"turnstream loadtest {result['run_id']}"
    path.write_text(
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{html.escape(summary_text(result))}</pre>"
        f"{plots}</body></html>\n",
        encoding="utf-8",
    )


def _nines(q: float) -> float:
    """Distance from 100 % on a log axis, so p99.9 sits as far from p99 as p99 from p90."""
    return 1.0 / max(100.0 - q, 0.001)


def _nearest_rank(ordered: list[float], q: float) -> float:
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]
