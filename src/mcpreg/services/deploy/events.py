"""The deployment history: one append-only event per change, mirrored into the journal.

``record_event`` is the only writer. It bumps the state row's ``version`` and stores
it as the event's ``seq``, so the events of one (server, environment) are numbered
1, 2, 3, ... without gaps, and a change without its event cannot commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Deployment, DeploymentEvent, DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services import journal
from mcpreg.services.deploy.states import Snapshot, number, status_of
from mcpreg.services.moved_sessions import moved_counts
from mcpreg.services.visibility import Visible, newest_visible

ACTIONS = (
    "deploy",
    "promote",
    "request",
    "schedule",
    "approve",
    "cancel",
    "fail",
    "step",
    "complete",
    "pause",
    "resume",
    "abort",
    "rollback",
    "health",  # the prober saw a deployed version change state (``services.health``)
    "gate",  # a deployment or step held by its gates, or let through (``services.gates``)
)
_LKG_WINDOW = 500
"""How many recent events ``last_known_good`` looks back through."""


def _replaced(before: Snapshot, state: DeploymentState) -> str | None:
    if before.stable != state.stable_version:
        return before.stable
    if before.canary is not None and before.canary != state.canary_version:
        return before.canary
    return None


def record_event(
    session: Session,
    state: DeploymentState,
    env: Environment,
    actor: Principal | str,
    action: str,
    before: Snapshot,
    now: datetime,
    *,
    version: str | None = None,
    strategy: str | None = None,
    deployment: Deployment | None = None,
    notes: str | None = None,
    replaced: str | None = None,
    detail: dict[str, Any] | None = None,
) -> DeploymentEvent:
    """Append one event for ``state`` (already changed) and the matching journal entry."""
    assert action in ACTIONS, action
    actor_name = actor if isinstance(actor, str) else actor.name
    state.version += 1
    state.updated_at = now
    event = DeploymentEvent(
        server_id=state.server_id,
        server_name=state.server_name,
        environment_id=state.environment_id,
        environment=env.name,
        seq=state.version,
        at=now,
        actor=actor_name,
        action=action,
        version=version,
        replaced=replaced if replaced is not None else _replaced(before, state),
        stable_version=state.stable_version,
        canary_version=state.canary_version,
        canary_weight=state.canary_weight,
        strategy=strategy if strategy is not None else (deployment.strategy if deployment else None),
        rollout_id=state.rollout_id,
        deployment_id=deployment.id if deployment else None,
        from_environment=deployment.from_environment if deployment else None,
        forced=deployment.forced if deployment else False,
        notes=notes if notes is not None else (deployment.notes if deployment else None),
        detail=orjson.dumps(detail).decode() if detail else None,
    )
    session.add(state)
    session.add(event)
    session.flush()
    if before.stable != state.stable_version:
        state.last_known_good = last_known_good(session, state)
        session.add(state)
    # What the event says beyond who, when and where (the entry records those itself).
    said = journal.snapshot(EventInfo.of(event)).items()
    after = {
        k: v for k, v in said if k not in ("id", "at", "actor", "server", "environment", "sessionsMoved")
    }
    after["status"] = status_of(state)
    if deployment is not None:
        after["deploymentState"] = deployment.state
    journal.record(
        session,
        actor_name,
        f"deploy.{action}",
        server_name=state.server_name,
        version=version,
        environment=env.name,
        before={
            "stable": before.stable,
            "canary": before.canary,
            "weight": number(before.weight),
            "status": before.status,
        },
        after=after,
        reason=event.notes,
    )
    return event


def last_known_good(session: Session, state: DeploymentState) -> str | None:
    """The most recent earlier stable version not rolled back from since, and not deleted.

    Walking the history newest first, every version a rollback or an abort replaced
    from then on is suspect; the first other stable version met is the answer.
    """
    events = session.exec(
        select(DeploymentEvent)
        .where(
            DeploymentEvent.server_id == state.server_id,
            DeploymentEvent.environment_id == state.environment_id,
        )
        .order_by(DeploymentEvent.seq.desc())  # type: ignore[attr-defined]
        .limit(_LKG_WINDOW)
    )
    suspect: set[str] = set()
    for event in events:
        if event.action in ("rollback", "abort") and event.replaced:
            suspect.add(event.replaced)
        if event.action == "abort" and event.version:
            suspect.add(event.version)
        candidate = event.stable_version
        if candidate is None or candidate == state.stable_version or candidate in suspect:
            continue
        status = session.exec(
            select(Release.status).where(Release.server_id == state.server_id, Release.version == candidate)
        ).first()
        if status in ("active", "deprecated"):
            return candidate
        suspect.add(candidate)
    return None


def was_stable(session: Session, state: DeploymentState, version: str) -> bool:
    """Whether ``version`` was ever the stable version of this target (its history says so)."""
    found = session.exec(
        select(DeploymentEvent.id)
        .where(
            DeploymentEvent.server_id == state.server_id,
            DeploymentEvent.environment_id == state.environment_id,
            DeploymentEvent.stable_version == version,
        )
        .limit(1)
    ).first()
    return found is not None


def summary(event: DeploymentEvent, detail: dict[str, Any] | None) -> str:
    """One sentence saying what the event did, for the history and the journal."""
    version, replaced, stable = event.version, event.replaced, event.stable_version
    weight = number(event.canary_weight)
    detail = detail or {}
    request = f"deployment {event.deployment_id} of {version}"
    match event.action:
        case "deploy" | "promote" if event.strategy in ("canary", "staged") and event.canary_version:
            said = f"{version} gets {weight}% of clients ({event.strategy}), {stable} the rest"
        case "deploy" | "promote":
            said = f"{version} is stable" + (f", replacing {replaced}" if replaced else "")
        case "request":
            said = f"{request} waits for approval"
        case "schedule":
            said = f"{request} is scheduled for {detail.get('scheduledAt')}"
        case "approve" | "cancel":
            said = f"{request} is {'approved' if event.action == 'approve' else 'cancelled'}"
        case "fail":
            said = f"{request} failed: {detail.get('code')}"
        case "step" | "pause" | "resume":
            done = {"step": "moved", "pause": "paused", "resume": "resumed"}[event.action]
            said = f"the rollout of {version} {done} at {weight}%"
        case "complete":
            said = f"the rollout completed: {version} is stable, replacing {replaced}"
        case "abort":
            said = f"the rollout of {version} is aborted: {stable} serves every client"
        case "health":
            was = f" (was {detail['previous']})" if detail.get("previous") else ""
            why = f": {detail['reason']}" if detail.get("reason") else ""
            said = f"{version} is {detail.get('health')}{was}{why}"
        case "gate":
            at = f"{detail.get('point')} gates" + (f" of step {detail['step']}" if detail.get("step") else "")
            if detail.get("passed"):
                said = f"the {at} of {version} passed"
            else:
                why = f": {detail['failure']}" if detail.get("failure") else ""
                said = (
                    f"{version} is held by its {at} ({detail.get('gate')} {detail.get('result')}{why}),"
                    f" tried again at {detail.get('retryAt')}"
                )
        case _:
            said = f"rolled back to {version}" + (f", replacing {replaced}" if replaced else "")
    if detail.get("cancelledRollout"):
        said += f"; the rollout of {detail.get('canary')} is cancelled"
    return said


_MOVED = "sessionsMoved"  # a history page's count, not the event's


@dataclass(frozen=True)
class EventInfo:
    """One history event as shown, with its one-line summary (and, in a history page, the
    legacy gateway sessions it moved off their version)."""

    id: int
    seq: int
    at: datetime
    actor: str
    action: str
    server: str
    environment: str
    version: str | None
    replaced: str | None
    stable: str | None
    canary: str | None
    weight: float
    strategy: str | None
    rollout_id: str | None
    deployment_id: int | None
    from_environment: str | None
    forced: bool
    notes: str | None
    detail: dict[str, Any] | None
    summary: str
    sessions_moved: int = 0

    @classmethod
    def of(cls, event: DeploymentEvent, sessions_moved: int = 0) -> EventInfo:
        detail = orjson.loads(event.detail) if event.detail else None
        return cls(
            id=event.id or 0,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            server=event.server_name,
            environment=event.environment,
            version=event.version,
            replaced=event.replaced,
            stable=event.stable_version,
            canary=event.canary_version,
            weight=number(event.canary_weight),
            strategy=event.strategy,
            rollout_id=event.rollout_id,
            deployment_id=event.deployment_id,
            from_environment=event.from_environment,
            forced=event.forced,
            notes=event.notes,
            detail=detail,
            summary=summary(event, detail),
            sessions_moved=sessions_moved,
        )


@dataclass(frozen=True)
class HistoryPage:
    events: list[EventInfo]
    next_cursor: str | None


def history(
    session: Session,
    env: Environment,
    *,
    server_id: int | None = None,
    cursor: str | None = None,
    limit: int = 100,
    action: str | None = None,
    visible: Visible | None = None,
) -> HistoryPage:
    """Events of an environment (or of one server there), newest first.

    ``visible`` keeps only the events of servers the caller may read (``services.visibility``).
    """
    query = select(DeploymentEvent).where(DeploymentEvent.environment_id == env.id)
    if server_id is not None:
        query = query.where(DeploymentEvent.server_id == server_id)
    if action is not None:
        if action not in ACTIONS:
            raise ValidationFailed(f"action is one of {', '.join(ACTIONS)}", field="action")
        query = query.where(DeploymentEvent.action == action)
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed("cursor must be the value of a previous nextCursor", field="cursor")
        query = query.where(DeploymentEvent.id < int(cursor))  # type: ignore[operator]
    rows = newest_visible(session, query, DeploymentEvent.id, visible, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    # Legacy gateway sessions each entry moved off their version (``services.moved_sessions``).
    moved = moved_counts(session, ((r.server_id, r.environment_id, r.seq) for r in rows))
    shown = [EventInfo.of(r, moved.get((r.server_id, r.environment_id, r.seq), 0)) for r in rows]
    return HistoryPage(shown, str(rows[-1].id) if more and rows else None)
