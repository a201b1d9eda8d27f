"""Two real ``mcpreg serve`` processes on one PostgreSQL database.

Fifty concurrent deploy, promote and rollback requests across both leave exactly one
stable version per environment and a gapless history with an event for every request
that succeeded; a rollback made through one process is served by the other within a
second (measured and printed).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.conftest import PG_ADMIN_URL, TEST_KEYS, make_token, server_doc
from tests.support.served import Spawned, serve_env, spawn_serve, stop_serve, wait_answers
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

NAME = "io.github.acme/weather"
SERVER = "io.github.acme/weather"
ENVS = ("dev", "staging", "production")
VERSIONS = ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0")


def start(url: str, data_dir: Path, name: str) -> Spawned:
    env = serve_env(
        MCPREG_DATABASE_URL=url,
        MCPREG_DEV="1",
        MCPREG_SAMPLE_DATA="0",
        MCPREG_SECRET_KEYS=TEST_KEYS,
        MCPREG_DATA_DIR=str(data_dir / name),
        MCPREG_ACCESS_LOG="0",
    )
    return spawn_serve(env, data_dir / f"{name}.log")


@pytest.fixture
def replicas(postgres_admin: sa.Engine, tmp_path: Path) -> Iterator[tuple[Spawned, Spawned, sa.Engine]]:
    name = f"mcpreg_replicas_{os.getpid()}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    started = [start(url, tmp_path, "a"), start(url, tmp_path, "b")]
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        for replica in started:
            wait_answers(replica)
        yield started[0], started[1], engine
    finally:
        for replica in started:
            replica.process.terminate()
        for replica in started:
            stop_serve(replica)
        engine.dispose()
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def operations(rng: random.Random, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """A seeded mix of deploys (every strategy), promotions and rollbacks."""
    ops: list[tuple[str, str, dict[str, Any]]] = []
    for _ in range(count):
        kind = rng.choice(("deploy", "deploy", "canary", "promote", "rollback", "rollback"))
        env = rng.choice(ENVS)
        version = rng.choice(VERSIONS)
        if kind == "deploy":
            ops.append(("POST", f"/api/environments/{env}/deployments", {"server": NAME, "version": version}))
        elif kind == "canary":
            body = {
                "server": NAME,
                "version": version,
                "strategy": "canary",
                "weight": rng.choice((5, 25, 50)),
            }
            ops.append(("POST", f"/api/environments/{env}/deployments", body))
        elif kind == "promote":
            source = rng.choice(ENVS[:2])
            ops.append(("POST", f"/api/servers/{SERVER}/versions/{version}/promote", {"from": source}))
        else:
            body = {"version": version} if rng.random() < 0.5 else {}
            ops.append(("POST", f"/api/environments/{env}/servers/{SERVER}/rollback", body))
    return ops


def test_two_replicas_keep_one_stable_version_a_gapless_history_and_see_a_rollback_within_a_second(
    replicas: tuple[Spawned, Spawned, sa.Engine],
) -> None:
    a, b, engine = replicas
    token = make_token(engine, "ops", ["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=a.url, headers=headers, timeout=30) as admin:
        for version in VERSIONS:
            assert admin.post("/v0.1/publish", json=server_doc(version=version)).status_code == 200
        for env in ENVS:
            first = admin.post(
                f"/api/environments/{env}/deployments", json={"server": NAME, "version": "1.0.0"}
            )
            assert first.status_code == 201, first.text

    ops = operations(random.Random(4), 50)

    def fire(index: int) -> tuple[str, httpx.Response]:
        method, path, body = ops[index]
        base = (a, b)[index % 2].url
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            return path, client.request(method, path, json=body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(fire, range(len(ops))))

    statuses = [r.status_code for _, r in results]
    assert all(s < 500 for s in statuses), [r.text for _, r in results if r.status_code >= 500]
    succeeded = [(path, r.json()) for path, r in results if r.status_code in (200, 201)]
    refusals = sorted({r.json()["code"] for _, r in results if r.status_code >= 400})
    print(f"\n{len(succeeded)} of {len(ops)} concurrent requests succeeded; refusals: {', '.join(refusals)}")
    assert len(succeeded) >= 10, statuses

    with engine.connect() as conn:
        states = conn.execute(
            sa.text(
                "SELECT e.name, s.stable_version, s.version FROM deployment_state s "
                "JOIN environment e ON e.id = s.environment_id"
            )
        ).all()
        events = conn.execute(
            sa.text(
                "SELECT environment, seq, action, stable_version FROM deployment_event "
                "ORDER BY environment, seq"
            )
        ).all()
    assert sorted(env for env, _, _ in states) == sorted(ENVS), (
        "exactly one state row, one stable, per environment"
    )
    for env, stable, revision in states:
        mine = [e for e in events if e.environment == env]
        assert [e.seq for e in mine] == list(range(1, revision + 1)), f"gapless history in {env}"
        assert stable is not None and mine[-1].stable_version == stable
    recorded = {(e.environment, e.seq, e.action) for e in events}
    for path, body in succeeded:
        current = body.get("current", body)
        action = "rollback" if path.endswith("/rollback") else ("promote" if "promote" in path else "deploy")
        assert (current["environment"], current["revision"], action) in recorded, (path, body)
    for replica in (a, b):  # both replicas serve the one stable version
        for env, stable, _ in states:
            latest = httpx.get(
                f"{replica.url}/environments/{env}/v0.1/servers/{SERVER.replace('/', '%2F')}/versions/latest"
            )
            assert latest.json()["server"]["version"] == stable

    # Timed steps, with both replicas' schedulers competing: each step is taken once.
    staging = next(stable for env, stable, _ in states if env == "staging")
    with httpx.Client(base_url=a.url, headers=headers, timeout=30) as admin:
        staged = admin.post(
            "/api/environments/staging/deployments",
            json={
                "server": NAME,
                "version": next(v for v in VERSIONS if v != staging),
                "steps": "10:1s,50:1s",
            }
            | {"strategy": "staged"},
        )
        assert staged.status_code == 201, staged.text
        first_seq = staged.json()["current"]["revision"]
        rollout = f"/api/environments/staging/servers/{SERVER}/rollout"
        wait_until(lambda: admin.get(rollout).json()["status"] == "completed", 15, "the staged rollout")
    with engine.connect() as conn:
        after = conn.execute(
            sa.text(
                "SELECT action, canary_weight FROM deployment_event "
                "WHERE environment = 'staging' AND seq >= :s ORDER BY seq"
            ),
            {"s": first_seq},
        ).all()
    assert [(e.action, e.canary_weight) for e in after] == [("deploy", 10), ("step", 50), ("complete", 0)]

    latest_on_b = f"{b.url}/environments/production/v0.1/servers/{SERVER.replace('/', '%2F')}/versions/latest"
    resolve_on_b = f"{b.url}/api/environments/production/servers/{SERVER}/resolve"
    before = httpx.get(latest_on_b).json()["server"]["version"]
    with engine.connect() as conn:  # a rollback goes back to a version once stable there
        earlier = set(
            conn.execute(
                sa.text("SELECT stable_version FROM deployment_event WHERE environment = 'production'")
            ).scalars()
        )
    target = next((v for v in VERSIONS if v != before and v in earlier), None)
    if target is None:
        target = next(v for v in VERSIONS if v != before)
        with httpx.Client(base_url=a.url, headers=headers, timeout=30) as admin:
            for version in (target, before):
                deployed = admin.post(
                    "/api/environments/production/deployments", json={"server": NAME, "version": version}
                )
                assert deployed.status_code == 201, deployed.text
    for _ in range(3):  # warm b's response cache and its routing snapshot
        assert httpx.get(latest_on_b).json()["server"]["version"] == before
        assert httpx.get(resolve_on_b, headers=headers).json()["version"] == before
    with httpx.Client(base_url=a.url, headers=headers, timeout=30) as admin:
        started = time.monotonic()
        rolled = admin.post(
            f"/api/environments/production/servers/{SERVER}/rollback", json={"version": target}
        )
        committed = time.monotonic()
    assert rolled.status_code == 200, rolled.text

    def seen_on_b() -> float | None:
        served = httpx.get(latest_on_b).json()["server"]["version"]
        resolved = httpx.get(resolve_on_b, headers=headers).json()["version"]
        return time.monotonic() if served == resolved == target else None

    seen = wait_until(seen_on_b, 2.0, "replica b serving (and resolving) the rollback")
    latency = seen - committed
    print(
        f"\ncross-replica rollback: request {committed - started:.3f}s, "
        f"visible on b {latency:.3f}s after commit"
    )
    assert latency < 1.0
