"""One benchmark pass: for a catalogue size and a backend, import, serve, probe, load, then baseline."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench import backends, canary, commands, importer, load, probe, publish, service
from bench.catalogue import CatalogueFile
from bench.results import RAW, STARLETTE, Results, ScenarioResult
from bench.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = "production"
CANARY_SERVERS = 50
ETAG_SAMPLES = 300
PUBLISH_SERVERS = 200


@dataclass
class Settings:
    """How long and how hard to drive each scenario."""

    duration: float
    publish_duration: float
    warmup: float
    generator: str
    walk_time_limit: float
    keep_databases: bool
    out_dir: Path
    serve_flags: list[str] = field(default_factory=list)
    server_env: dict[str, str] = field(default_factory=dict)  # extra MCPREG_* for mcpreg serve

    @property
    def logs(self) -> Path:
        return self.out_dir / "logs"


def _say(console: Console, text: str) -> None:
    console.print(f"  [dim]{text}[/]")


def _probe_service(
    base_url: str,
    token: str | None,
    approver: Callable[[], str | None],
    cat: CatalogueFile,
    docs: list[dict[str, Any]],
    settings: Settings,
) -> probe.Probe:
    found = probe.Probe()
    releases: dict[str, list[str]] = {}
    for doc in docs:
        releases.setdefault(doc["name"], []).append(doc["version"])
    step = max(1, len(cat.names) // CANARY_SERVERS)
    chosen = {n: releases[n] for n in cat.names[::step][:CANARY_SERVERS]}
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        probe.walk_list(client, found, settings.walk_time_limit)
        if found.listed_items and found.listed_items != cat.releases:
            found.notes.append(f"cursor walk listed {found.listed_items} entries for {cat.releases} releases")
        probe.sample_details(client, found, list(cat.names), ETAG_SAMPLES)
        live = canary.setup(client, token, approver, ENVIRONMENT, chosen)
        if note := live.note(len(chosen)):
            found.notes.append(note)
        if live.approvals:
            found.notes.append(f"{live.approvals} deployments were held for approval and approved")
        if live.deployed:
            probe.sample_resolve(client, found, ENVIRONMENT, live.deployed, token)
        else:
            found.notes.append("no canary deployment succeeded: resolve scenario skipped")
    return found


def _workloads(found: probe.Probe, token: str | None) -> dict[str, Workload]:
    out: dict[str, Workload] = {}
    if found.list_paths:
        out["list"] = Workload("list", tuple(found.list_paths), headers=probe.LIST_HEADERS)
    if "detail" in found.samples:
        out["detail"] = Workload("detail", tuple(found.detail_paths))
    if found.resolve_paths:
        auth = (("Authorization", f"Bearer {token}"),) if token else ()
        out["resolve"] = Workload("resolve", tuple(found.resolve_paths), client_param=True, headers=auth)
    if found.detail_etags:
        out["revalidate"] = Workload("revalidate", tuple(found.etag_paths), etags=tuple(found.detail_etags))
    return out


def _drive(
    console: Console,
    results: Results,
    settings: Settings,
    base_url: str,
    target: str,
    size: int,
    workloads: dict[str, Workload],
    sizes: dict[str, int | None],
    impl: dict[str, str],
    server: service.ServerProcess,
) -> None:
    meters = {"cpu": server.cpu_seconds, "busy": server.loop_busy_seconds}
    for scenario, workload in workloads.items():
        try:
            measured, shares = load.run(
                base_url,
                workload,
                settings.duration,
                settings.generator,
                warmup=settings.warmup,
                meters=meters,
            )
        except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
            results.notes.append(f"{target} {size}: {scenario} load failed: {exc}")
            continue
        results.scenarios.append(
            ScenarioResult(
                scenario,
                target,
                size,
                measured,
                sizes.get(scenario),
                impl,
                shares.get("cpu"),
                shares.get("busy"),
            )
        )
        if measured.errors:
            results.notes.append(
                f"{target} {size}: {scenario} had {measured.errors} errors in {measured.requests} requests"
            )
        _say(
            console,
            f"{target:<10} {scenario:<10} {measured.rps:8.0f} req/s  p50 {measured.p50_ms:6.2f} ms  "
            f"p99 {measured.p99_ms:6.2f} ms  errors {measured.errors}  "
            f"CPU {100 * shares.get('cpu', 0):3.0f}%  loop busy {100 * shares.get('busy', 0):3.0f}%",
        )


def _publish(
    console: Console,
    results: Results,
    settings: Settings,
    base_url: str,
    target: str,
    size: int,
    token: str | None,
    docs: list[dict[str, Any]],
    impl: dict[str, str],
    epoch: int,
) -> publish.PublishRun:
    run = publish.run(base_url, token, docs, settings.publish_duration, epoch=epoch)
    size_bytes = len(run.sample[1]) if run.sample else None
    results.scenarios.append(ScenarioResult("publish", target, size, run.result, size_bytes, impl))
    if run.first_error:
        results.notes.append(f"{target} {size}: publish failures {run.statuses}, first: {run.first_error}")
    _say(
        console,
        f"{target:<10} {'publish':<10} {run.result.rps:8.0f} /s      p50 {run.result.p50_ms:6.2f} ms  "
        f"p99 {run.result.p99_ms:6.2f} ms  errors {run.result.errors}",
    )
    return run


def _latest_docs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for doc in docs:
        latest[doc["name"]] = doc
    return list(latest.values())[:PUBLISH_SERVERS]


def _baseline_bodies(
    settings: Settings, size: int, found: probe.Probe, publish_sample: tuple[int, bytes] | None
) -> Path:
    """The captured answers (bodies and the headers sent with them) as the baselines load them."""
    bodies: dict[str, dict[str, Any]] = {
        key: {
            "status": s.status,
            "body_b64": base64.b64encode(s.body).decode(),
            "etag": s.etag,
            "headers": [list(pair) for pair in s.headers],
        }
        for key, s in found.samples.items()
    }
    if publish_sample is not None:
        bodies["publish"] = {
            "status": publish_sample[0],
            "body_b64": base64.b64encode(publish_sample[1]).decode(),
        }
    path = settings.logs / f"baseline-bodies-{size}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bodies))
    return path


def _run_baseline(
    console: Console,
    results: Results,
    settings: Settings,
    size: int,
    found: probe.Probe,
    workloads: dict[str, Workload],
    impl: dict[str, str],
    publish_sample: tuple[int, bytes] | None,
    docs: list[dict[str, Any]],
) -> None:
    """Both baselines (Starlette, then raw ASGI) on the scenarios not yet measured at ``size``.

    Publishing is measured against Starlette only (its client, httpx, is the slow side).
    """
    bodies_path: Path | None = None
    for target, app in ((STARLETTE, "starlette"), (RAW, "raw")):
        missing = {s: w for s, w in workloads.items() if results.find(s, target, size) is None}
        want_publish = (
            target == STARLETTE
            and publish_sample is not None
            and results.find("publish", target, size) is None
        )
        if not missing and not want_publish:
            continue
        bodies_path = bodies_path or _baseline_bodies(settings, size, found, publish_sample)
        argv = [
            sys.executable,
            "-m",
            "bench.baseline",
            "--app",
            app,
            "--host",
            service.HOST,
            "--bodies",
            str(bodies_path),
            "--loop",
            impl["loop"],
            "--http",
            impl["http"],
            "--port",
        ]
        port = service.free_port()
        server = service.start(
            target,
            [*argv, str(port)],
            {**_clean_env(), "PYTHONPATH": str(ROOT)},
            ROOT,
            settings.logs / f"{target}-{size}.log",
            port,
        )
        try:
            reason = server.wait_healthy("/v0.1/health", 30)
            if reason:
                results.notes.append(f"{target} {size}: {reason}")
                continue
            base_impl = server.implementation()
            sizes: dict[str, int | None] = {key: len(s.body) for key, s in found.samples.items()}
            sizes["revalidate"] = 0
            _drive(
                console,
                results,
                settings,
                server.base_url,
                target,
                size,
                missing,
                sizes,
                base_impl,
                server,
            )
            if want_publish:
                _publish(
                    console,
                    results,
                    settings,
                    server.base_url,
                    target,
                    size,
                    None,
                    _latest_docs(docs),
                    base_impl,
                    epoch=95,
                )
            results.rss_mb[(target, size)] = max(
                results.rss_mb.get((target, size), 0.0), server.peak_rss_mb()
            )
        finally:
            server.stop()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}


def run_one(
    console: Console,
    results: Results,
    settings: Settings,
    secret_keys: str,
    backend: str,
    cat: CatalogueFile,
    docs: list[dict[str, Any]],
) -> None:
    """Import ``cat`` into a fresh ``backend`` database, serve it, measure it and its baseline."""
    size = cat.releases
    console.print(f"[bold cyan]{backend}[/] with {size:,} releases")
    db = backends.fresh(backend, str(size))
    try:
        env = {**commands.production_env(db, secret_keys), **settings.server_env}
        imported = importer.measure(db, env, cat.path, size)
        results.imports.append(imported)
        if not imported.ok:
            results.notes.append(f"{backend} {size}: import failed, load skipped: {imported.summary}")
            _say(console, f"import failed: {imported.summary}")
            return
        _say(
            console, f"import {imported.seconds:.2f} s, {imported.rate:,.0f} releases/s ({imported.summary})"
        )
        if imported.landed is not None and imported.landed != size:
            results.notes.append(
                f"{backend} {size}: import landed {imported.landed} of {size}: {imported.summary}"
            )
        if backend == "sqlite" and not db.files():
            results.notes.append(
                f"sqlite {size}: no SQLite file appeared under MCPREG_DATA_DIR {db.data_dir}"
            )
        token, token_note = commands.create_token(env, db.data_dir)
        if token is None:
            results.notes.append(f"{backend} {size}: {token_note}")
        _serve_and_measure(console, results, settings, env, db, cat, docs, token)
    finally:
        if settings.keep_databases:
            results.notes.append(f"{backend} {size}: database kept ({db.pg_name or db.data_dir})")
        else:
            db.drop()


def _approver(env: dict[str, str], cwd: Path) -> Callable[[], str | None]:
    """A second admin token, created on first use (for environments that require approval)."""
    made: list[str | None] = []

    def get() -> str | None:
        if not made:
            made.append(commands.create_token(env, cwd, name="bench-approver")[0])
        return made[0]

    return get


def _serve_and_measure(
    console: Console,
    results: Results,
    settings: Settings,
    env: dict[str, str],
    db: backends.Database,
    cat: CatalogueFile,
    docs: list[dict[str, Any]],
    token: str | None,
) -> None:
    size, backend = cat.releases, db.backend
    port = service.free_port()
    argv = [str(commands.mcpreg_executable()), "serve", "--host", service.HOST, "--port", str(port)]
    server = service.start(
        "mcpreg",
        [*argv, *settings.serve_flags],
        env,
        db.data_dir,
        settings.logs / f"mcpreg-{backend}-{size}.log",
        port,
    )
    try:
        reason = server.wait_healthy("/v0.1/health", 90)
        if reason:
            results.notes.append(f"{backend} {size}: {reason}")
            return
        impl = server.implementation()
        approver = _approver(env, db.data_dir)
        found = _probe_service(server.base_url, token, approver, cat, docs, settings)
        results.notes.extend(f"{backend} {size}: {n}" for n in found.notes)
        workloads = _workloads(found, token)
        sizes: dict[str, int | None] = {key: len(s.body) for key, s in found.samples.items()}
        sizes["revalidate"] = 0
        _drive(
            console,
            results,
            settings,
            server.base_url,
            backend,
            size,
            workloads,
            sizes,
            impl,
            server,
        )
        published = _publish(
            console,
            results,
            settings,
            server.base_url,
            backend,
            size,
            token,
            _latest_docs(docs),
            impl,
            epoch=90,
        )
        results.rss_mb[(backend, size)] = server.peak_rss_mb()
        if not server.alive():
            results.notes.append(f"{backend} {size}: mcpreg exited during the run: {server.log_tail()}")
    finally:
        server.stop()
    _run_baseline(console, results, settings, size, found, workloads, impl, published.sample, docs)
