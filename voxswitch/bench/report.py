"""The bench's outputs: a table on stdout, a JSON file with every figure, a PNG plot."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, TextIO

import psutil

MB = 1024 * 1024


def machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model or platform.processor(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


# ---- comparison ------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def _size(step: dict[str, Any]) -> int:
    return step.get("callers", step.get("sessions", 0))


def _rss_per_session(step: dict[str, Any]) -> float | None:
    process = (step.get("server") or {}).get("process") or {}
    return process.get("rss_per_session_bytes")


def compare(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """Ratios voxswitch / peer, at the largest load both ran (and of capacities, if searched)."""
    by_size = {_size(s): s for s in peer["steps"]}
    common = [s for s in ours["steps"] if _size(s) in by_size]
    out: dict[str, Any] = {"ratio": "voxswitch / peer"}
    if ours.get("capacity") is not None and peer.get("capacity") is not None:
        out["capacity"] = {
            "voxswitch": ours["capacity"],
            "peer": peer["capacity"],
            "ratio": _ratio(ours["capacity"], peer["capacity"]),
        }
    rows = []
    for step in common:
        other = by_size[_size(step)]
        row: dict[str, Any] = {"size": _size(step)}
        for key in ("voice_to_voice_s", "vad_onset_lag_s"):
            for q in ("p50", "p95", "p99"):
                row[f"{key}_{q}"] = _ratio(step[key][q], other[key][q])
        row["connect_s_p50"] = _ratio(step["connect_s"]["p50"], other["connect_s"]["p50"])
        row["handshake_s_p50"] = _ratio(step["handshake_s"]["p50"], other["handshake_s"]["p50"])
        row["rss_per_session"] = _ratio(_rss_per_session(step), _rss_per_session(other))
        rows.append({k: v for k, v in row.items() if v is not None or k == "size"})
    out["at_size"] = rows
    return out


# ---- table -----------------------------------------------------------------------


def _f(x: float | None, unit: str = "", scale: float = 1.0, digits: int = 3) -> str:
    return "-" if x is None else f"{x * scale:.{digits}f}{unit}"


def _mb(x: float | None) -> str:
    return "-" if x is None else f"{x / MB:.1f}"


def print_table(report: dict[str, Any], out: TextIO = sys.stdout) -> None:
    for name, system in report["systems"].items():
        print(f"\n== {name}  {system['url']}", file=out)
        listen = any(s["mode"] == "listen" for s in system["steps"])
        if listen:
            header = (
                "sessions",
                "ok/ref/fail",
                "lag p50",
                "lag p99",
                "missed",
                "late%",
                "cpu s",
                "core%/sess",
                "rss/sess MB",
                "ok?",
            )
        else:
            header = (
                "callers",
                "ok/ref/fail",
                "v2v p50",
                "v2v p95",
                "connect p50",
                "x-talk",
                "unclear",
                "errors",
                "cpu/turn",
                "rss/sess MB",
                "ok?",
            )
        rows = [header]
        for s in system["steps"]:
            calls = s["calls"]
            ok = f"{calls['completed']}/{calls['refused']}/{calls['failed']}"
            process = s["server"].get("process") or {}
            verdict = {True: "yes", False: "no"}.get(s.get("sustainable"), "")
            late = s["client"]["late_frame_ratio"]
            if listen:
                lag = s["vad_onset_lag_s"]
                rows.append(
                    (
                        str(s["sessions"]),
                        ok,
                        _f(lag["p50"]),
                        _f(lag["p99"]),
                        str(s["probes_missed"]),
                        _f(late, "%", 100, 1),
                        _f(process.get("cpu_s"), digits=1),
                        _f(process.get("core_share_per_session"), "%", 100, 2),
                        _mb(process.get("rss_per_session_bytes")),
                        verdict,
                    )
                )
            else:
                v2v = s["voice_to_voice_s"]
                errors = sum(s["errors"].values())
                rows.append(
                    (
                        str(s["callers"]),
                        ok,
                        _f(v2v["p50"]),
                        _f(v2v["p95"]),
                        _f(s["connect_s"]["p50"]),
                        str(s["isolation"]["cross_talk"]),
                        str(s["isolation"]["unclear"] + s["isolation"]["missing"]),
                        str(errors),
                        _f(process.get("cpu_s_per_turn"), digits=2),
                        _mb(process.get("rss_per_session_bytes")),
                        verdict,
                    )
                )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for r in rows:
            print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)), file=out)
        for s in system["steps"]:
            if s.get("why_not"):
                print(f"  step {_size(s)} not sustainable: {'; '.join(s['why_not'])}", file=out)
            for case in s["isolation"]["cross_talk_cases"][:5]:
                print(
                    f"  CROSS-TALK caller {case['caller']} said {case['said']!r}, "
                    f"server heard {case['heard']!r}",
                    file=out,
                )
        if system.get("capacity") is not None:
            print(f"  capacity: {system['capacity']} (largest sustainable step)", file=out)
        last = system["steps"][-1] if system["steps"] else None
        if last and last["server"]["metrics"]:
            print(f"  server-side, step {_size(last)}:", file=out)
            for m in last["server"]["metrics"]:
                labels = ",".join(f"{k}={v}" for k, v in m["labels"].items())
                print(
                    f"    {m['metric']}{{{labels}}} n={m['count']} mean={m['mean']:.4f} "
                    f"p50={_f(m['p50'], digits=4)} p95={_f(m['p95'], digits=4)}",
                    file=out,
                )
    comparison = report.get("comparison")
    if comparison:
        print(
            "\n== voxswitch / peer (below 1 is better for latency and memory, above 1 for "
            "capacity)",
            file=out,
        )
        if "capacity" in comparison:
            c = comparison["capacity"]
            print(
                f"  capacity: {c['voxswitch']} vs {c['peer']}  ratio {_f(c['ratio'], digits=2)}",
                file=out,
            )
        for row in comparison["at_size"]:
            items = ", ".join(f"{k}={v}" for k, v in row.items() if k != "size")
            print(f"  at {row['size']}: {items}", file=out)


# ---- files -----------------------------------------------------------------------


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str))
    tmp.replace(path)


def write_plot(report: dict[str, Any], path: Path) -> bool:
    """p50/p95 voice-to-voice (or p50/p99 VAD onset lag) against load, every system on one
    chart. Returns False when there is nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = False
    listen = False
    for i, (name, system) in enumerate(report["systems"].items()):
        color = f"C{i}"
        steps = system["steps"]
        listen = listen or any(s["mode"] == "listen" for s in steps)
        key, qs = (
            ("vad_onset_lag_s", ("p50", "p99")) if listen else ("voice_to_voice_s", ("p50", "p95"))
        )
        for q, style, marker in zip(qs, ("-", "--"), ("o", "s"), strict=True):
            points = [(_size(s), s[key][q]) for s in steps if s[key][q] is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, style, marker=marker, color=color, label=f"{name} {q}")
                plotted = True
    bound = report["bench"].get("lag_bound_s" if listen else "v2v_bound_s")
    if bound is not None and plotted:
        ax.axhline(bound, color="grey", linewidth=0.8, linestyle=":", label=f"bound {bound} s")
    ax.set_xlabel("listening sessions" if listen else "concurrent callers")
    ax.set_ylabel("VAD onset lag (s)" if listen else "voice-to-voice (s)")
    m = report["machine"]
    ax.set_title(f"voxswitch bench — {m['cpus']} CPUs, {m['cpu_model'][:40]}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if plotted:
        ax.legend(fontsize=8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return plotted
