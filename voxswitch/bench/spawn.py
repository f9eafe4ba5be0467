"""Start the servers under test as child processes, wait until they serve, stop them after.

``voxswitch serve`` is ready when ``/ready`` answers 200. The plain-Pipecat
peer needs two processes: llama.cpp's OpenAI-compatible server (ready when
``/v1/models`` answers) and the peer itself (``/health``). Stopping sends
SIGTERM, waits, then kills: the peer before the LLM server it talks to.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from voxswitch.errors import BenchError

STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Spawned:
    """Child processes making up one server under test (first started, last stopped)."""

    name: str
    http_url: str
    ws_url: str
    procs: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    _log_files: list[IO[str]] = field(default_factory=list, repr=False)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        for f in self._log_files:
            f.close()
        self._log_files.clear()

    def _start(self, args: list[str], log_path: Path) -> subprocess.Popen:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("w")
        self._log_files.append(log_file)
        self.logs.append(log_path)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, env=env)
        self.procs.append(proc)
        return proc

    def _wait_http(self, url: str, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for proc, log in zip(self.procs, self.logs, strict=True):
                if proc.poll() is not None:
                    raise BenchError(
                        f"{what}: process exited with {proc.returncode}; "
                        f"last log lines:\n{_tail(log)}",
                        kind="spawn",
                    )
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise BenchError(f"{what}: {url} not ready in {timeout_s:.0f} s", kind="spawn")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def spawn_voxswitch(
    *,
    log_dir: Path,
    port: int | None = None,
    serve_args: list[str] | None = None,
    timeout_s: float = 240.0,
) -> Spawned:
    """``voxswitch serve`` on loopback; returns once ``/ready`` is 200."""
    port = port or free_port()
    server = Spawned("voxswitch", f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws")
    args = [
        sys.executable,
        "-m",
        "voxswitch.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(serve_args or []),
    ]
    server._start(args, log_dir / "voxswitch-serve.log")
    try:
        server._wait_http(server.http_url + "/ready", timeout_s, "voxswitch serve")
    except BaseException:
        server.stop()
        raise
    return server


def spawn_naive_peer(
    *,
    log_dir: Path,
    port: int | None = None,
    llm_threads: int = 1,
    peer_args: list[str] | None = None,
    timeout_s: float = 240.0,
) -> Spawned:
    """llama.cpp's OpenAI-compatible server plus the plain-Pipecat peer, both on loopback."""
    from voxswitch.inference.models import smollm2_gguf_path

    port = port or free_port()
    llm_port = free_port()
    llm_url = f"http://127.0.0.1:{llm_port}/v1"
    peer = Spawned("naive", f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws")
    try:
        peer._start(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(smollm2_gguf_path()),
                "--host",
                "127.0.0.1",
                "--port",
                str(llm_port),
                "--n_threads",
                str(llm_threads),
            ],
            log_dir / "naive-llama-server.log",
        )
        peer._wait_http(llm_url + "/models", timeout_s, "llama_cpp.server")
        peer._start(
            [
                sys.executable,
                "-m",
                "voxswitch.bench.naive_peer",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--llm-base-url",
                llm_url,
                *(peer_args or []),
            ],
            log_dir / "naive-peer.log",
        )
        peer._wait_http(peer.http_url + "/health", timeout_s, "naive peer")
    except BaseException:
        peer.stop()
        raise
    return peer
