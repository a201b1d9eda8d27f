"""History and journal: what changed, filterable by server, environment and action.

Two lists, each read as the API reads it. The deployment history of one environment
(``GET /api/environments/{env}/history``: a token over the environment, only the events
of servers it covers), filtered by server and by action. And, for admin tokens, the
change journal (``GET /api/audit``), filtered by the same server and environment and by
an action prefix (``release.``, ``deploy.``, ``secret.``...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.schemas.history import HistoryEvent
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, page, visit
from mcpreg.domain.storable import parse_time
from mcpreg.errors import Unauthenticated, ValidationFailed
from mcpreg.services import environments, journal, releases
from mcpreg.services.deploy import events as deploy_history
from mcpreg.services.tokens import require

LIMIT = 50


@dataclass(frozen=True)
class Filters:
    server: str | None
    environment: str | None
    action: str | None
    entry: str | None
    cursor: str | None
    journal_cursor: str | None


def _param(request: Request, name: str, limit: int = 200) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"{name} is at most {limit} characters", field=name)
    return value or None


def _cursor(request: Request, name: str) -> str | None:
    value = _param(request, name, 20)
    if value is not None and not (value.isascii() and value.isdigit()):
        raise ValidationFailed(
            f"{name} must be the value a previous page gave", field=name, code="invalid_cursor"
        )
    return value


def _filters(request: Request) -> Filters:
    action = _param(request, "action", 32)
    if action is not None and action not in deploy_history.ACTIONS:
        raise ValidationFailed(f"action is one of {', '.join(deploy_history.ACTIONS)}", field="action")
    return Filters(
        server=_param(request, "server"),
        environment=_param(request, "environment", 64),
        action=action,
        entry=_param(request, "entry", 64),
        cursor=_cursor(request, "cursor"),
        journal_cursor=_cursor(request, "journal_cursor"),
    )


def _at(entry: dict[str, Any]) -> datetime:
    return parse_time(entry["at"], field="at")


def read(session: Session, visitor: Visitor, f: Filters) -> dict[str, Any]:
    principal = visitor.principal
    if not visitor.signed_in:
        raise Unauthenticated("the history needs a token: sign in", field="session")
    envs = [e.name for e in environments.list_environments(session) if principal.covers_environment(e.name)]
    env_name = f.environment or (envs[0] if envs else None)
    events: list[dict[str, Any]] | None = None
    next_cursor = None
    if env_name is not None:
        require(principal, "read", server=f.server, environment=env_name)
        env = environments.get_environment(session, env_name)
        server_id = releases.get_server(session, f.server).id if f.server else None
        found = deploy_history.history(
            session,
            env,
            server_id=server_id,
            cursor=f.cursor,
            limit=LIMIT,
            action=f.action,
            visible=principal.covers_server,
        )
        shown = [HistoryEvent.of(e).model_dump(mode="json") for e in found.events]  # as the API shows them
        events = [{**e, "when": _at(e)} for e in shown]
        next_cursor = found.next_cursor
    entries = None
    journal_next = None
    if principal.is_admin:
        found_journal = journal.page(
            session,
            cursor=f.journal_cursor,
            limit=LIMIT,
            server_name=f.server,
            environment=f.environment,
            action_prefix=f.entry,
        )
        entries = [{**asdict(e), "when": e.at} for e in found_journal.entries]
        journal_next = found_journal.next_cursor
    return {
        "visitor": visitor,
        "environments": envs,
        "environment": env_name,
        "events": events,
        "next_cursor": next_cursor,
        "entries": entries,
        "journal_next": journal_next,
    }


@page
async def history_page(request: Request) -> Response:
    f = _filters(request)
    context = await visit(request, lambda session, visitor: read(session, visitor, f))
    return render(
        request,
        "history.html",
        {**context, "title": "History", "filters": f, "actions": deploy_history.ACTIONS},
    )
