"""Point in time: what ran in every environment at a chosen moment, for incident review.

``GET /console/point-in-time?at=...`` takes a moment in UTC (``2030-01-31T18:00`` as a
``datetime-local`` field sends it, or RFC 3339 with any zone) and shows, per environment in
promotion order, every server's stable version and the canary with its weight at that
instant, each with the change that left it so (who, when, what). It is rebuilt from the
deployment history (``services.deploy.point_in_time``), so it follows the history's read rule: a
signed-in token, the environments its patterns cover and, there, the servers its
namespaces cover. Without ``at`` it shows now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.console.deploy import schedule_text
from mcpreg.console.showing import SHOW, iso
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, page, visit
from mcpreg.db.types import utcnow
from mcpreg.domain.storable import parse_time
from mcpreg.errors import ValidationFailed
from mcpreg.services.deploy import point_in_time
from mcpreg.services.tokens import require

PATH = "/console/point-in-time"
STEPS = (("1 hour earlier", timedelta(hours=-1)), ("10 minutes earlier", timedelta(minutes=-10)),
         ("10 minutes later", timedelta(minutes=10)), ("1 hour later", timedelta(hours=1)))  # fmt: skip
MAX_AT = 64


def moment_of(raw: str | None) -> datetime | None:
    """The moment asked for (UTC when no zone is given), or None for now."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_AT or "\x00" in raw:
        raise ValidationFailed("at must be a date-time like 2030-01-31T18:00 (UTC)", field="at")
    return parse_time(schedule_text(raw), field="at")


def link(moment: datetime) -> str:
    return f"{PATH}?{urlencode({'at': iso(moment)})}"


@page
async def show(request: Request) -> Response:
    asked = moment_of(request.query_params.get("at"))

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        principal = visitor.principal
        require(principal, "read")
        now = utcnow()
        moment = asked or now
        found = point_in_time.running_at(
            session, moment, visible=principal.covers_server, environment_visible=principal.covers_environment
        )
        return {
            **SHOW,
            "visitor": visitor,
            "moment": moment,
            "asked": asked is not None,
            "future": moment > now,
            "environments": found,
            "field_value": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "steps": [(label, link(moment + delta)) for label, delta in STEPS],
        }

    context = await visit(request, work)
    return render(request, "pointintime.html", {**context, "title": "Point in time"})
