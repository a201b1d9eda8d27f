"""Sync throughput: a mirror syncing a real ``mcpreg serve`` upstream of N releases.

``python -m bench --sync`` (or ``python -m bench.sync``). The upstream is ``mcpreg serve`` in
production settings over SQLite with the synthetic catalogue imported (``bench.catalogue``),
in its own process; the mirror syncs it in this process through the service itself
(``services.mirror.sync``, pages of 100 over HTTP), on each backend, three times:

* ``full``: into an empty mirror, every release added;
* ``incremental``: after every upstream release was deprecated (one UPDATE on the upstream's
  database, so each answers a new ``updatedAt``), every release updated;
* ``overlap``: again at once; every release lies inside the overlap window before the
  watermark, so all are read again and counted unchanged (the worst case of the window).

Each is reported in releases read per second of wall time (HTTP, parsing, checks and writes
together). It reports and asserts nothing; the target is printed as met or MISSED.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench import backends, catalogue, commands, service

TARGET = 2_000.0  # releases/s, incremental
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SyncResult:
    backend: str
    size: int
    kind: str
    seconds: float
    pages: int
    added: int
    updated: int
    unchanged: int
    refused: int
    reading: float  # of ``seconds``, waiting for the upstream's pages (its serving included)
    cpu: float  # CPU seconds of this (the mirror's) process, all threads

    @property
    def read(self) -> int:
        return self.added + self.updated + self.unchanged + self.refused

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_rate(self) -> float:
        """Releases per CPU second of the mirror: what a busy machine changes least."""
        return self.read / self.cpu if self.cpu > 0 else 0.0


class TimedTransport(httpx.HTTPTransport):
    """Counts the seconds spent waiting for the upstream's answers, bodies included."""

    seconds = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        began = time.perf_counter()
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            self.seconds += time.perf_counter() - began


def _mirror_url(db: backends.Database) -> str:
    return db.env.get("MCPREG_DATABASE_URL") or f"sqlite:///{db.data_dir / 'mirror.db'}"


def _deprecate_all(upstream: backends.Database) -> None:
    """Every upstream release deprecated now (a new ``updatedAt`` each), behind the server's back."""
    (path,) = [p for p in upstream.files() if p.name == "mcpreg.db"]
    with sqlite3.connect(path) as connection:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
        connection.execute(
            "UPDATE release SET status = 'deprecated', status_message = 'bench', updated_at = ?, "
            "status_changed_at = ?",
            (stamp, stamp),
        )


def run(console: Console, chosen: list[str], size: int, out_dir: Path) -> list[SyncResult]:
    cat, _docs = catalogue.write(size, out_dir)
    keys = commands.new_secret_keys()
    upstream = backends.fresh("sqlite", f"upstream_{size}")
    env = commands.production_env(upstream, keys)
    imported = commands.run(["import", str(cat.path), "--json"], env, upstream.data_dir, timeout=600)
    if not imported.ok:
        console.print(f"[red]upstream import failed[/]: {imported.tail()}")
        upstream.drop()
        return []
    port = service.free_port()
    argv = [str(commands.mcpreg_executable()), "serve", "--host", service.HOST, "--port", str(port)]
    server = service.start(
        "upstream", argv, env, upstream.data_dir, out_dir / f"sync-upstream-{size}.log", port
    )
    results: list[SyncResult] = []
    try:
        if reason := server.wait_healthy("/v0.1/health", 90):
            console.print(f"[red]upstream did not start[/]: {reason}")
            return []
        base = f"{server.base_url}/v0.1"
        for backend in chosen:
            mirror = backends.fresh(backend, f"mirror_{size}")
            try:
                results.extend(_measure(console, _mirror_url(mirror), base, backend, size, upstream))
            finally:
                mirror.drop()
            _restore(upstream)
    finally:
        server.stop()
        upstream.drop()
    return results


def _restore(upstream: backends.Database) -> None:
    """Every upstream release active again, for the next backend's run."""
    (path,) = [p for p in upstream.files() if p.name == "mcpreg.db"]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE release SET status = 'active', status_message = NULL")


def _measure(
    console: Console, url: str, base: str, backend: str, size: int, upstream: backends.Database
) -> list[SyncResult]:
    from mcpreg.crypto import KeyRing
    from mcpreg.db import migrate
    from mcpreg.db.engine import make_engine, unit_of_work
    from mcpreg.domain.principal import SYSTEM
    from mcpreg.services.mirror import sync, upstreams

    ring = KeyRing([("k1", bytes(range(32)))])
    engine = make_engine(url, pool_size=2)
    found: list[SyncResult] = []
    try:
        migrate.upgrade(engine)
        with unit_of_work(engine, write=True) as session:
            _, given = upstreams.parse_input({"name": "bench", "url": base}, creating=True)
            upstreams.create(session, ring, SYSTEM, "bench", given)
        for kind in ("full", "incremental", "overlap"):
            if kind == "incremental":
                _deprecate_all(upstream)
            transport = TimedTransport()
            cpu = time.process_time()
            started = time.perf_counter()
            with httpx.Client(transport=transport, timeout=60) as client:
                result = sync.sync(engine, ring, client, SYSTEM, "bench", sync.SyncOptions(holder="bench"))
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            fields = ("pages", "added", "updated", "unchanged", "refused")
            counts = {k: int(getattr(result, k)) for k in fields}  # of the run's RunInfo
            found.append(
                SyncResult(backend, size, kind, seconds, **counts, reading=transport.seconds, cpu=cpu)
            )
            console.print(
                f"{backend} {size} {kind}: {found[-1].rate:,.0f} releases/s ({seconds:.2f} s, {counts})"
            )
    finally:
        engine.dispose()
    return found


def show(console: Console, results: list[SyncResult]) -> None:
    table = Table(title="sync throughput (releases read per second, wall time)")
    for column in (
        "backend",
        "releases",
        "sync",
        "seconds",
        "reading pages",
        "pages",
        "added",
        "updated",
        "unchanged",
        "mirror CPU s",
        "per CPU s",
        "releases/s",
        "target",
    ):
        table.add_column(column)
    for r in results:
        target = ""
        if r.kind == "incremental":
            target = f"{'met' if r.rate >= TARGET else 'MISSED'} (>= {TARGET:,.0f})"
        table.add_row(
            r.backend, f"{r.size:,}", r.kind, f"{r.seconds:.2f}", f"{r.reading:.2f}", str(r.pages),
            str(r.added), str(r.updated), str(r.unchanged), f"{r.cpu:.2f}", f"{r.cpu_rate:,.0f}",
            f"{r.rate:,.0f}", target,
        )  # fmt: skip
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="upstream releases (default 10,000)")
    parser.add_argument("--backends", default=",".join(backends.BACKENDS), help="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="output directory")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    chosen = [b for b in args.backends.split(",") if b]
    if "postgresql" in chosen and (reason := backends.postgres_unreachable_reason()):
        console.print(f"[yellow]PostgreSQL skipped[/]: {reason}")
        chosen.remove("postgresql")
    show(console, run(console, chosen, args.size, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
