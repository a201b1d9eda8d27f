"""Runs of test sets: what one run is asked to do (``Plan``) and what it found (``Run``).

``plan_run`` picks the version (the one named, else the canary while a rollout runs one,
else stable) and builds its upstream exactly as the gateway does
(``gateway.upstream.build_upstream``: the release's remote, its effective configuration
for the environment, secrets unsealed in memory only). ``record_run`` stores the outcome;
runs are read back newest first. Starting a run needs the ``deploy`` scope over the server
and the environment (it calls the version there with that environment's secrets); reading
runs needs ``read`` over the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing
from mcpreg.db.tables import Release
from mcpreg.db.testset_tables import TestSetRun
from mcpreg.domain.bucketing import Track
from mcpreg.domain.principal import Principal
from mcpreg.domain.testsets import check_name
from mcpreg.errors import Conflict, NoDeployment, NotFound
from mcpreg.gateway.upstream import Upstream, build_upstream
from mcpreg.services.configuration import effective as config_effective
from mcpreg.services.deploy import routing
from mcpreg.services.deploy.states import find_state, is_rolling_out
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import DRAFT, get_release, get_server
from mcpreg.services.testsets.sets import StoredSet, load
from mcpreg.services.tokens import require

PASS, FAIL, ERROR = "pass", "fail", "error"
Trigger = Literal["person", "gate"]


@dataclass(frozen=True)
class CaseResult:
    """One case of a run: ``result`` pass, fail (the answer missed) or error (no answer)."""

    name: str
    tool: str
    result: str
    reason: str
    expected: str
    got: str | None
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tool": self.tool,
            "result": self.result,
            "reason": self.reason,
            "expected": self.expected,
            "got": self.got,
            "elapsedMs": self.elapsed_ms,
        }


@dataclass(frozen=True)
class Run:
    """One stored run of a test set against one version in one environment."""

    id: int
    server: str
    testset: str
    revision: int
    environment: str
    version: str
    track: str | None
    started_by: str
    trigger: str
    result: str
    detail: str
    total: int
    failed: int
    started_at: datetime
    finished_at: datetime
    elapsed_ms: float
    failing: tuple[str, ...] = ()  # the cases that did not pass, in order
    cases: tuple[CaseResult, ...] = ()  # left out of listings


@dataclass(frozen=True)
class Plan:
    """What one run calls: the set, the version and its upstream (headers never shown)."""

    server_id: int
    server: str
    environment: str
    version: str
    track: Track | None
    stored: StoredSet
    upstream: Upstream = field(repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)  # masked in what a run keeps


def require_run(principal: Principal, server: str, environment: str) -> None:
    require(principal, "deploy", server=server, environment=environment)


def _release_for(
    session: Session, server_name: str, env_name: str, version: str | None
) -> tuple[Release, Track | None]:
    server = get_server(session, server_name)
    env = get_environment(session, env_name)
    state = find_state(session, server, env)
    if version is None:
        if state is None or state.stable_release_id is None:
            raise NoDeployment(
                f"nothing of {server.name} is deployed in {env.name}: name a version", field="version"
            )
        canary = state.canary_release_id is not None and is_rolling_out(state)
        chosen = session.get(Release, state.canary_release_id if canary else state.stable_release_id)
        assert chosen is not None
        return chosen, "canary" if canary else "stable"
    release = get_release(session, server, version)
    if release.status == DRAFT:
        raise Conflict(
            f"{server.name} {release.version} is a draft; publish it first",
            field="version",
            code="release_is_draft",
        )
    track: Track | None = None
    if state is not None and release.id == state.stable_release_id:
        track = "stable"
    elif state is not None and release.id == state.canary_release_id and is_rolling_out(state):
        track = "canary"
    return release, track


def plan_run(
    session: Session, keyring: KeyRing, *, server: str, environment: str, testset: str, version: str | None
) -> Plan:
    """The set, the version to run it on (see the module) and that version's upstream."""
    server_id, stored = load(session, server, testset)
    release, track = _release_for(session, stored.server, environment, version)
    resolution = routing.Resolution(stored.server, environment, release, track or "canary", None, 0.0)
    upstream = build_upstream(session, keyring, resolution)
    secrets: tuple[str, ...] = ()
    if upstream.problem is None:
        effective = config_effective.effective_config(
            session, keyring, stored.server, release.version, environment, reveal=True
        )
        secrets = tuple(entry.value for entry in effective.secrets.values() if entry.value)
    return Plan(server_id, stored.server, environment, release.version, track, stored, upstream, secrets)


def _run(row: TestSetRun, *, with_cases: bool = True) -> Run:
    assert row.id is not None
    cases = tuple(
        CaseResult(
            c["name"], c["tool"], c["result"], c["reason"], c["expected"], c.get("got"), c["elapsedMs"]
        )
        for c in (orjson.loads(row.cases) if with_cases else ())
    )
    return Run(
        row.id,
        row.server_name,
        row.testset,
        row.testset_revision,
        row.environment,
        row.version,
        row.track,
        row.started_by,
        row.trigger,
        row.result,
        row.detail,
        row.total,
        row.failed,
        row.started_at,
        row.finished_at,
        row.elapsed_ms,
        tuple(orjson.loads(row.failing)),
        cases,
    )


def record_run(
    session: Session,
    plan: Plan,
    results: list[CaseResult],
    *,
    result: str,
    detail: str,
    started_by: str,
    trigger: Trigger,
    started_at: datetime,
    finished_at: datetime,
    elapsed_ms: float,
) -> Run:
    row = TestSetRun(
        server_id=plan.server_id,
        server_name=plan.server,
        testset=plan.stored.name,
        testset_revision=plan.stored.revision,
        environment=plan.environment,
        version=plan.version,
        track=plan.track,
        started_by=started_by,
        trigger=trigger,
        result=result,
        detail=detail,
        total=len(results),
        failed=sum(1 for r in results if r.result != PASS),
        failing=orjson.dumps([r.name for r in results if r.result != PASS]).decode(),
        cases=orjson.dumps([r.to_dict() for r in results]).decode(),
        started_at=started_at,
        finished_at=finished_at,
        elapsed_ms=round(elapsed_ms, 3),
    )
    session.add(row)
    session.flush()
    return _run(row)


def _query_runs(session: Session, server_name: str, name: str) -> Any:
    server = get_server(session, server_name)
    return select(TestSetRun).where(TestSetRun.server_id == server.id, TestSetRun.testset == check_name(name))


def list_runs(
    session: Session, principal: Principal, server_name: str, name: str, *, limit: int = 20
) -> list[Run]:
    """The set's runs, newest first (404 when there is neither such a set nor a run of one)."""
    require(principal, "read", server=server_name)
    query = _query_runs(session, server_name, name)
    # A run's cases may be a megabyte: a listing never reads them.
    skip_cases = defer(TestSetRun.cases)  # type: ignore[arg-type]  # (sqlmodel types the column as str)
    listed = query.options(skip_cases).order_by(col(TestSetRun.id).desc()).limit(limit)
    rows = session.exec(listed).all()
    if not rows:
        load(session, server_name, name)  # no set of that name either: 404
    return [_run(row, with_cases=False) for row in rows]


def get_run(session: Session, principal: Principal, server_name: str, name: str, run_id: int | None) -> Run:
    require(principal, "read", server=server_name)
    query = _query_runs(session, server_name, name)
    row = session.exec(query.where(TestSetRun.id == run_id)).first() if run_id is not None else None
    if row is None:
        raise NotFound(
            f"test set {name!r} of {server_name} has no run {run_id}",
            field="id",
            code="testset_run_not_found",
        )
    return _run(row)
