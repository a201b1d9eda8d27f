"""Import rate: ``mcpreg import catalogue.json`` into a fresh database, timed from outside."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import commands
from bench.backends import Database

COUNTED = ("landed", "skipped", "notes", "imported", "created")


@dataclass(frozen=True)
class ImportResult:
    """One import: wall seconds of the command, releases per second, and the fixed CLI overhead.

    ``seconds`` is the wall time of ``mcpreg import`` on an already-migrated database (an empty
    import runs first to apply migrations); ``overhead_s`` is the wall time of a second empty
    import (interpreter start, settings, engine) so ``net_rate`` estimates the loading itself.
    """

    backend: str
    size: int
    ok: bool
    seconds: float
    overhead_s: float | None
    summary: str
    landed: int | None = None

    @property
    def releases(self) -> int:
        """Releases the command reports as landed (the catalogue size when it does not say)."""
        return self.size if self.landed is None else self.landed

    @property
    def rate(self) -> float:
        return self.releases / self.seconds if self.ok and self.seconds > 0 else 0.0

    @property
    def net_rate(self) -> float | None:
        if not self.ok or self.overhead_s is None or self.seconds - self.overhead_s <= 0:
            return None
        return self.releases / (self.seconds - self.overhead_s)

    def as_dict(self) -> dict[str, object]:
        net = self.net_rate
        return {
            **asdict(self),
            "releases_per_s": round(self.rate, 1),
            "net_releases_per_s": None if net is None else round(net, 1),
        }


def _landed(stdout: str) -> int | None:
    try:
        report = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    landed = report.get("landed") if isinstance(report, dict) else None
    return landed if isinstance(landed, int) else None


def _summary(stdout: str) -> str:
    """``landed N skipped M`` from the JSON report, else the first 300 characters printed."""
    try:
        report = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return " ".join(stdout.split())[:300]
    if not isinstance(report, dict):
        return " ".join(stdout.split())[:300]
    parts = [f"{k} {len(v) if isinstance(v, list) else v}" for k, v in report.items() if k in COUNTED]
    skipped = report.get("skipped")
    if isinstance(skipped, list) and skipped:
        parts.append(f"first skipped: {str(skipped[0])[:160]}")
    return ", ".join(parts) or " ".join(stdout.split())[:300]


def measure(db: Database, env: dict[str, str], catalogue: Path, size: int) -> ImportResult:
    """Migrate with an empty import, time the real import, then time an empty import again."""
    empty = db.data_dir / "empty.json"
    empty.write_text("[]")
    warm = commands.run(["import", str(empty), "--json"], env, db.data_dir, timeout=300)
    json_flag = ["--json"] if warm.returncode != 2 else []
    if not json_flag:
        warm = commands.run(["import", str(empty)], env, db.data_dir, timeout=300)
    done = commands.run(["import", str(catalogue), *json_flag], env, db.data_dir, timeout=120 + size / 100)
    if not done.ok:
        prefix = "" if warm.ok else f"(empty import also failed: {warm.tail(2)}) "
        return ImportResult(
            db.backend, size, False, done.seconds, None, f"{prefix}failed rc={done.returncode}: {done.tail()}"
        )
    overhead = (
        commands.run(["import", str(empty), *json_flag], env, db.data_dir, timeout=300) if warm.ok else None
    )
    summary = _summary(done.stdout)
    return ImportResult(
        backend=db.backend,
        size=size,
        ok=True,
        seconds=done.seconds,
        overhead_s=overhead.seconds if overhead is not None and overhead.ok else None,
        summary=summary,
        landed=_landed(done.stdout),
    )
