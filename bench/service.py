"""Start, watch and stop one HTTP server process (``mcpreg serve`` or the baseline)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo and len(out) < 64:
        current = todo.pop()
        out.append(current)
        todo.extend(_children(current))
    return out


def _cpu_ticks(pid: int) -> int:
    """User plus system clock ticks of ``pid`` (all its threads), from ``/proc/<pid>/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class ServerProcess:
    """A server we started: its pid, port and log file."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def wait_healthy(self, path: str, timeout: float = 60.0) -> str | None:
        """Poll ``path`` until it answers 200; None on success, else the reason."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    return f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}"
                try:
                    response = client.get(path)
                    if response.status_code == 200:
                        return None
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                time.sleep(0.2)
        return f"{self.name} not healthy after {timeout:.0f}s ({last}): {self.log_tail()}"

    def peak_rss_mb(self) -> float:
        """Largest VmHWM (peak resident set) over the process and its children, in MB."""
        return max((_status_kb(pid, "VmHWM") for pid in _tree(self.proc.pid)), default=0) / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process and its children have used so far (threads included)."""
        return sum(_cpu_ticks(pid) for pid in _tree(self.proc.pid)) / os.sysconf("SC_CLK_TCK")

    def loop_busy_seconds(self) -> float:
        """Time the main thread (the event loop) has spent running or ready to run.

        ``/proc/<pid>/task/<pid>/schedstat`` holds the time on a CPU and the time waiting in
        a run queue, in ns. Over a timed run, their sum over the wall time is the share of
        the run the loop had work: near 1 when the server is the bottleneck, even when other
        processes take the CPU from it; well below 1 when it waited for requests.
        """
        pid = self.proc.pid
        try:
            running, waiting = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[:2]
        except (OSError, ValueError):
            return 0.0
        return (int(running) + int(waiting)) / 1e9

    def implementation(self) -> dict[str, str]:
        """Which event loop and HTTP parser the process has loaded (read from /proc/<pid>/maps)."""
        maps = ""
        for pid in _tree(self.proc.pid):
            with contextlib.suppress(OSError):
                maps += Path(f"/proc/{pid}/maps").read_text()
        return {
            "loop": "uvloop" if "/uvloop/" in maps else "asyncio",
            "http": "httptools" if "/httptools/" in maps else "h11",
        }

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT, then SIGTERM, then SIGKILL to the process group we created; bounded."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if not self.alive():
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout / 3)
        self._log.close()


def start(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path, port: int
) -> ServerProcess:
    """Start ``argv`` in its own process group with output to ``log_path`` (never a pipe)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return ServerProcess(name=name, port=port, proc=proc, log_path=log_path, _log=log)
