"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    """Processor count and model, memory, Python and OS versions, load generator available."""

    nproc: int
    cpu_model: str
    memory_mb: int
    python: str
    platform: str
    wrk: str | None
    load_average: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def one_line(self) -> str:
        wrk = self.wrk or "not installed (python load generator)"
        return (
            f"{self.nproc} CPU ({self.cpu_model}), {self.memory_mb} MB RAM, "
            f"Python {self.python}, {self.platform}, wrk: {wrk}, "
            f"load average at start {self.load_average:.2f}"
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def describe() -> Machine:
    """Describe the machine running the benchmark."""
    return Machine(
        nproc=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        cpu_model=_cpu_model(),
        memory_mb=_memory_mb(),
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        wrk=shutil.which("wrk"),
        load_average=load_average(),
    )


def load_average() -> float:
    """The 1-minute load average (0.0 where unknown)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def busy_note(nproc: int, when: str) -> str | None:
    """A warning when other work keeps the CPUs busy: the numbers are then noisy."""
    load = load_average()
    if load <= 0.5 * nproc:
        return None
    return f"1-min load average {load:.1f} on {nproc} CPUs {when}: other processes compete, numbers are noisy"
