"""What ran where at a chosen moment, rebuilt from the deployment history. Pure.

Every history event records the state of its target (one server in one environment)
right after it: the stable version, the canary and the canary's weight. So what ran
on a target at a moment is what its last event at or before that moment left, and
"last" is the event's ``seq`` (one target's events are numbered without gaps in the
order their changes committed), not its clock time.

Nothing ran when that event left no stable version, or when the target had no event
yet. A canary counts only while it takes traffic (weight above 0): an aborted
rollout keeps its canary's name on the row, but every client is on stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Change:
    """One history event, as the reconstruction needs it."""

    server: str
    environment: str
    seq: int
    at: datetime
    actor: str
    action: str
    stable: str | None
    canary: str | None
    weight: float
    summary: str = ""


@dataclass(frozen=True)
class Running:
    """What one target served: ``stable``, and ``canary`` to ``weight`` percent of clients.

    ``since``, ``by``, ``action`` and ``summary`` describe the change that left it so.
    """

    server: str
    environment: str
    stable: str
    canary: str | None
    weight: float
    since: datetime
    by: str
    action: str
    summary: str


def running_after(change: Change) -> Running | None:
    """What ``change`` left running on its target, or None when nothing ran."""
    if change.stable is None:
        return None
    serving = change.canary is not None and change.weight > 0
    return Running(
        server=change.server,
        environment=change.environment,
        stable=change.stable,
        canary=change.canary if serving else None,
        weight=change.weight if serving else 0.0,
        since=change.at,
        by=change.actor,
        action=change.action,
        summary=change.summary,
    )


def last_changes(changes: Iterable[Change], moment: datetime | None = None) -> dict[tuple[str, str], Change]:
    """Each target's last change made at or before ``moment`` (every change without one)."""
    last: dict[tuple[str, str], Change] = {}
    for change in changes:
        if moment is not None and change.at > moment:
            continue
        key = (change.server, change.environment)
        known = last.get(key)
        if known is None or change.seq > known.seq:
            last[key] = change
    return last


def running_at(changes: Iterable[Change], moment: datetime) -> list[Running]:
    """What ran on every target at ``moment``, by environment then server."""
    found = (running_after(c) for c in last_changes(changes, moment).values())
    return sorted((r for r in found if r is not None), key=lambda r: (r.environment, r.server))
