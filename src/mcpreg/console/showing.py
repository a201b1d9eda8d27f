"""How the operations screens write things: times, weights, durations, a target's path.

``SHOW`` holds the helpers their templates call (functions, not filters: the filters are
``console.templating``'s); the board, the rollout panel, its requests and the dialogs share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from mcpreg.console.charts import number as figure
from mcpreg.console.templating import time_tag, utc_text
from mcpreg.domain import rollout as machine
from mcpreg.domain.timestamps import read_rfc3339, rfc3339
from mcpreg.services.deploy.states import number


@dataclass(frozen=True)
class Offer:
    """One button: what it does in words, or why it does not apply."""

    action: str
    label: str
    says: str
    reason: str | None
    acknowledge: bool

    @property
    def enabled(self) -> bool:
        return self.reason is None


def target_path(env: str, server: str) -> str:
    return f"/console/environments/{env}/servers/{server}"


def when(moment: datetime | str | None) -> Markup:
    """A ``<time>`` (relative, UTC and local on hover) for a datetime or an RFC 3339 text."""
    return time_tag(read_rfc3339(moment) if isinstance(moment, str) else moment)


def iso(moment: datetime | None) -> str:
    """The instant as RFC 3339 in UTC, for links and scripts."""
    return rfc3339(moment.astimezone(UTC)) if moment is not None else ""


def utc(moment: datetime | str | None) -> str:
    """The instant in UTC words (``2026-12-01 10:40:00 UTC``)."""
    found = read_rfc3339(moment) if isinstance(moment, str) else moment
    return utc_text(found) if found is not None else ""


def pct(weight: float) -> str:
    return f"{number(weight)}%"


def duration(seconds: float | None) -> str:
    """``8m20s``: a length of time as the rollout plans write it."""
    return machine.format_duration(int(seconds or 0))


SHOW: dict[str, Any] = {
    "when": when,
    "iso": iso,
    "utc": utc,
    "pct": pct,
    "duration": duration,
    "figure": figure,
}
"""Helpers the operations templates call (functions, not filters: the filters are console-core's)."""
