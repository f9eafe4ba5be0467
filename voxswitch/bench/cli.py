"""``voxswitch bench``: load-test a Pipecat-protocol server, optionally beside the plain peer.

    voxswitch bench --spawn --callers 4 --turns 3                 # fixed load
    voxswitch bench --spawn --mode capacity --peer naive          # ramp both, compare
    voxswitch bench --url ws://host:8000/ws --mode listen         # listening sessions

Writes ``bench.json`` (every figure) and ``bench.png`` under ``--out`` and
prints a table. Exit status: 0, or 1 if the system under test mixed up callers
(cross-talk) or a server could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voxswitch.bench.behaviours import CallTiming
from voxswitch.bench.report import compare, machine, print_table, write_json, write_plot
from voxswitch.bench.runner import (
    LoadOptions,
    Runner,
    Target,
    fixed_failures,
    listen_failures,
)
from voxswitch.bench.voices import DEFAULT_CACHE_DIR, VoiceBank
from voxswitch.errors import BenchError

CAPACITY_RAMP = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
LISTEN_RAMP = (1, 8, 16, 32, 64, 96, 128, 192, 256, 384, 512)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("server under test")
    target.add_argument("--url", default="ws://127.0.0.1:8000/ws", help="its WebSocket endpoint")
    target.add_argument("--name", default="voxswitch", help="its name in the report")
    target.add_argument(
        "--metrics-url", default=None, help="Prometheus endpoint (default: /metrics next to --url)"
    )
    target.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="PID to watch for CPU and RSS (repeatable; automatic with --spawn)",
    )
    target.add_argument(
        "--spawn",
        action="store_true",
        help="start `voxswitch serve` on loopback for the run, stop it after",
    )
    target.add_argument("--port", type=int, default=None, help="port for --spawn (default: free)")
    target.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `voxswitch serve`, e.g. --serve-arg=--max-sessions=64",
    )
    target.add_argument(
        "--spawn-timeout", type=float, default=240.0, help="seconds to wait for ready"
    )

    peer = parser.add_argument_group("peer (same load, side by side)")
    peer.add_argument(
        "--peer",
        choices=["naive"],
        default=None,
        help="also run the plain-Pipecat peer (started on loopback) and compare",
    )
    peer.add_argument("--peer-url", default=None, help="use an already running peer instead")
    peer.add_argument(
        "--peer-pid",
        type=int,
        action="append",
        default=[],
        help="PID(s) of an already running peer (and its LLM server)",
    )
    peer.add_argument(
        "--peer-llm-threads", type=int, default=1, help="llama.cpp threads of the peer's LLM server"
    )
    peer.add_argument(
        "--peer-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for the peer (python -m voxswitch.bench.naive_peer)",
    )

    load = parser.add_argument_group("load")
    load.add_argument("--mode", choices=["fixed", "capacity", "listen"], default="fixed")
    load.add_argument("--callers", type=int, default=2, help="fixed mode: concurrent callers")
    load.add_argument("--turns", type=int, default=2, help="turns per caller")
    load.add_argument("--think", type=float, default=1.0, help="seconds between turns")
    load.add_argument(
        "--stagger",
        type=float,
        default=1.0,
        help="spread call starts evenly over this many seconds",
    )
    load.add_argument(
        "--ramp",
        default=None,
        help="capacity/listen: comma-separated step sizes (default: a doubling-ish "
        "series up to --max-callers)",
    )
    load.add_argument(
        "--max-callers",
        type=int,
        default=None,
        help="largest step of the default ramp (capacity 32, listen 128)",
    )
    load.add_argument(
        "--v2v-bound",
        type=float,
        default=1.5,
        help="capacity: largest acceptable p95 voice-to-voice, seconds",
    )
    load.add_argument("--listen-seconds", type=float, default=20.0, help="listen: step length")
    load.add_argument(
        "--probe-interval",
        type=float,
        default=1.0,
        help="listen: seconds between probe words (one session at a time)",
    )
    load.add_argument(
        "--vad-start-secs",
        type=float,
        default=0.2,
        help="the server's VAD start time, subtracted from the onset lag",
    )
    load.add_argument(
        "--lag-bound",
        type=float,
        default=0.1,
        help="listen: largest acceptable p99 VAD onset lag, seconds",
    )
    load.add_argument(
        "--background",
        choices=["noise", "silence"],
        default="noise",
        help="what the microphone sends between utterances",
    )
    load.add_argument(
        "--match-threshold",
        type=float,
        default=0.5,
        help="word overlap at which a transcript is attributed to a sentence",
    )
    load.add_argument(
        "--turn-timeout",
        type=float,
        default=30.0,
        help="seconds from end of speech to first bot audio before a turn fails",
    )
    load.add_argument("--open-timeout", type=float, default=10.0)
    load.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds from connect to RTVI bot-ready"
    )
    load.add_argument("--seed", type=int, default=1)

    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for bench.json, bench.png and server logs (default: bench-results/<time>)",
    )
    out.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help="where synthesised caller voices are kept",
    )
    out.add_argument("--no-progress", action="store_true", help="no progress bars")


def _metrics_url(ws_url: str) -> str:
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, "/metrics", "", ""))


def _steps(args: argparse.Namespace) -> list[int]:
    if args.mode == "fixed":
        return [args.callers]
    if args.ramp:
        try:
            steps = [int(x) for x in args.ramp.split(",") if x.strip()]
        except ValueError:
            raise BenchError(
                f"--ramp must be integers separated by commas: {args.ramp!r}", kind="usage"
            ) from None
    else:
        series = CAPACITY_RAMP if args.mode == "capacity" else LISTEN_RAMP
        limit = args.max_callers or (32 if args.mode == "capacity" else 128)
        steps = [n for n in series if n <= limit]
    if not steps or any(n < 1 for n in steps):
        raise BenchError("every step needs at least one caller", kind="usage")
    return steps


def _options(args: argparse.Namespace) -> LoadOptions:
    if args.turns < 1 or args.callers < 1:
        raise BenchError("--turns and --callers must be at least 1", kind="usage")
    return LoadOptions(
        turns=args.turns,
        think_s=args.think,
        stagger_s=args.stagger,
        timing=CallTiming(
            open_timeout_s=args.open_timeout,
            ready_timeout_s=args.ready_timeout,
            turn_timeout_s=args.turn_timeout,
        ),
        match_threshold=args.match_threshold,
        background=args.background,
        seed=args.seed,
        listen_s=args.listen_seconds,
        probe_interval_s=args.probe_interval,
        vad_start_s=args.vad_start_secs,
        progress=not args.no_progress,
    )


async def run_system(target: Target, args: argparse.Namespace, voices: VoiceBank) -> dict[str, Any]:
    """Every step of the chosen mode against one target."""
    runner = Runner(target, _options(args), voices)
    steps = _steps(args)
    record: dict[str, Any] = {"url": target.ws_url, "pids": target.pids, "capacity": None}
    if args.mode == "listen":
        records, capacity = await runner.ramp(
            steps, runner.listen_step, listen_failures(args.lag_bound)
        )
        record["capacity"] = capacity
    else:
        await runner.prepare(runner.texts_for(max(steps)))
        records, capacity = await runner.ramp(
            steps, runner.fixed_step, fixed_failures(args.v2v_bound)
        )
        if args.mode == "capacity":
            record["capacity"] = capacity
    record["steps"] = records
    return record


def _run_one(
    name: str,
    args: argparse.Namespace,
    voices: VoiceBank,
    out: Path,
    *,
    spawn: str | None,
    url: str,
    pids: list[int],
) -> dict[str, Any]:
    """Start the system if asked, run the load, always stop what was started."""
    from voxswitch.bench import spawn as spawner

    started = None
    try:
        if spawn == "voxswitch":
            started = spawner.spawn_voxswitch(
                log_dir=out, port=args.port, serve_args=args.serve_arg, timeout_s=args.spawn_timeout
            )
        elif spawn == "naive":
            started = spawner.spawn_naive_peer(
                log_dir=out,
                llm_threads=args.peer_llm_threads,
                peer_args=args.peer_arg,
                timeout_s=args.spawn_timeout,
            )
        if started is not None:
            url, pids = started.ws_url, started.pids
        target = Target(name, url, _metrics_url(url) if name != "naive" else None, pids)
        if name != "naive" and args.metrics_url:
            target.metrics_url = args.metrics_url
        print(f"bench: {name} at {url}", file=sys.stderr, flush=True)
        return asyncio.run(run_system(target, args, voices))
    finally:
        if started is not None:
            started.stop()


def run_bench(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out: Path = args.out or Path("bench-results") / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    voices = VoiceBank(args.cache)
    report: dict[str, Any] = {
        "bench": {
            "mode": args.mode,
            "argv": sys.argv,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "turns": args.turns,
            "think_s": args.think,
            "v2v_bound_s": args.v2v_bound if args.mode != "listen" else None,
            "lag_bound_s": args.lag_bound if args.mode == "listen" else None,
            "background": args.background,
        },
        "machine": machine(),
        "systems": {},
    }
    failed = False
    try:
        report["systems"][args.name] = _run_one(
            args.name,
            args,
            voices,
            out,
            spawn="voxswitch" if args.spawn else None,
            url=args.url,
            pids=args.server_pid,
        )
        if args.peer or args.peer_url:
            report["systems"]["naive"] = _run_one(
                "naive",
                args,
                voices,
                out,
                spawn=None if args.peer_url else "naive",
                url=args.peer_url or "",
                pids=args.peer_pid,
            )
            report["comparison"] = compare(report["systems"][args.name], report["systems"]["naive"])
    except BenchError as e:
        print(f"voxswitch bench: {e}", file=sys.stderr)
        failed = True
        if not report["systems"]:
            return 1
    except KeyboardInterrupt:
        print("voxswitch bench: interrupted; writing what was measured", file=sys.stderr)
    print_table(report)
    json_path = out / "bench.json"
    write_json(report, json_path)
    plot_path = out / "bench.png"
    plotted = write_plot(report, plot_path)
    print(f"\nbench: figures in {json_path}" + (f", plot in {plot_path}" if plotted else ""))
    ours = report["systems"].get(args.name)
    crossed = ours and any(s["isolation"]["cross_talk"] for s in ours["steps"])
    return 1 if crossed or failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voxswitch bench", description=__doc__.split("\n\n")[0])
    add_bench_arguments(parser)
    return run_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
