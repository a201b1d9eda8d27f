"""The environment board: one column per environment in promotion order, one row per server.

Each cell shows what runs there: the stable version, the canary with a weight bar, the
rollout's current step and the time to the next, the last change (by whom, when), and the
health prober's state of the stable and the canary (read once per board, ``health.all_states``).

The board is read from the same services as ``GET /api/environments/{env}/servers`` and
the environment history; the last change comes from that history, so the board follows
the history's rule: a signed-in token, the environments its patterns cover, and in them
only the servers its namespaces cover. ``?fragment=1`` answers the grid alone, which
``static/live.js`` fetches again whenever the change feed moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.schemas.deployments import Target
from mcpreg.console.deploy import deploy_link
from mcpreg.console.showing import SHOW, target_path
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, page, visit
from mcpreg.db.deploy_tables import Environment
from mcpreg.domain.point_in_time import Change
from mcpreg.domain.principal import Principal
from mcpreg.errors import RegistryError, ValidationFailed
from mcpreg.services import environments, health
from mcpreg.services.deploy.point_in_time import last_changes
from mcpreg.services.deploy.states import TargetInfo, states_in
from mcpreg.services.journal import current_generation
from mcpreg.services.tokens import require

MAX_ROWS = 200
MAX_SEARCH = 200


@dataclass(frozen=True)
class Cell:
    """One server in one environment: its state (None: nothing runs there) and last change."""

    environment: str
    view: dict[str, Any] | None
    last: Change | None
    rollout: str
    deploy: str | None
    promote: str | None
    health: dict[str, str] = field(default_factory=dict)  # version -> the prober's state


@dataclass(frozen=True)
class Row:
    server: str
    cells: list[Cell]


def _may_deploy(principal: Principal, env: Environment, server: str) -> bool:
    try:
        environments.require_deploy(principal, env, server)
    except RegistryError:
        return False
    return True


def board(
    session: Session, principal: Principal, search: str = ""
) -> tuple[list[Environment], list[Row], bool]:
    """The visible environments, one row per visible server deployed in any of them, and
    whether rows were left out (more than ``MAX_ROWS``)."""
    require(principal, "read")
    envs = [e for e in environments.list_environments(session) if principal.covers_environment(e.name)]
    views: dict[tuple[str, str], dict[str, Any]] = {}
    lasts: dict[tuple[str, str], Change] = {}
    names: set[str] = set()
    needle = search.lower()
    for env in envs:
        for state in states_in(session, env):
            name = state.server_name
            if principal.covers_server(name) and needle in name.lower():
                names.add(name)
                views[(env.name, name)] = Target.of(TargetInfo.of(state, env, name)).model_dump(mode="json")
        for name, change in last_changes(session, env).items():
            lasts[(env.name, name)] = change
    states: dict[tuple[str, str], dict[str, str]] = {}
    for server, environment, version, seen in health.all_states(session):
        states.setdefault((environment, server), {})[version] = seen
    ordered = sorted(names)
    rows = []
    for name in ordered[:MAX_ROWS]:
        cells = []
        for position, env in enumerate(envs):
            view = views.get((env.name, name))
            following = envs[position + 1] if position + 1 < len(envs) else None
            deploy = _may_deploy(principal, env, name)
            promote = view is not None and following is not None and _may_deploy(principal, following, name)
            path = target_path(env.name, name)
            cells.append(
                Cell(
                    environment=env.name,
                    view=view,
                    last=lasts.get((env.name, name)) if view is not None else None,
                    rollout=f"{path}/rollout",
                    deploy=deploy_link(env.name, name) if deploy else None,
                    promote=f"{path}/promote" if promote else None,
                    health=states.get((env.name, name), {}),
                )
            )
        rows.append(Row(name, cells))
    return envs, rows, len(ordered) > MAX_ROWS


@page
async def show(request: Request) -> Response:
    search = request.query_params.get("q", "").strip()
    if len(search) > MAX_SEARCH or "\x00" in search:
        raise ValidationFailed(f"the search is at most {MAX_SEARCH} characters, without NUL", field="q")

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        envs, rows, more = board(session, visitor.principal, search)
        return {
            **SHOW,
            "visitor": visitor,
            "envs": envs,
            "rows": rows,
            "more": more,
            "max_rows": MAX_ROWS,
            "search": search,
            "generation": current_generation(session),
        }

    context = await visit(request, work)
    fragment = request.query_params.get("fragment") == "1"
    return render(
        request, "board_grid.html" if fragment else "board.html", {**context, "title": "Environments"}
    )
