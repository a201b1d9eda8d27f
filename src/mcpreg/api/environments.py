"""Environments under ``/api/environments``, and the feature's installation.

``install`` adds these routes, the deployment routes (``api.deployments``) and the
environment views of the official API (``api.env_views``). ``run_scheduler_once`` is one
pass of the rollout scheduler, which ``api.background`` runs every ``scheduler_interval``
seconds on every replica with background work enabled: it takes due rollout steps and
starts due scheduled deployments.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mcpreg.api import deployments, env_views, resolve
from mcpreg.api.deployments import ENV
from mcpreg.api.http import json_object, json_response, query_id_cursor, query_int, run
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import Principal
from mcpreg.services import deploy_history, environments, scheduler
from mcpreg.services.deploy_state import state_view, states_in
from mcpreg.services.tokens import require


async def list_environments(request: Request) -> Response:
    def work(session: Session, _p: Principal) -> dict[str, Any]:
        return {
            "environments": [
                environments.environment_view(e) for e in environments.list_environments(session)
            ]
        }

    return json_response(request, await run(request, work))


async def create_environment(request: Request) -> Response:
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return environments.environment_view(environments.create_environment(session, principal, body))

    return json_response(request, await run(request, work, write=True), status=201)


async def get_environment(request: Request) -> Response:
    name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        return environments.environment_view(environments.get_environment(session, name))

    return json_response(request, await run(request, work))


async def update_environment(request: Request) -> Response:
    name = request.path_params["env"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return environments.environment_view(environments.update_environment(session, principal, name, body))

    return json_response(request, await run(request, work, write=True))


async def deployed_servers(request: Request) -> Response:
    """Everything that runs in one environment, with its rollout."""
    name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        env = environments.get_environment(session, name)
        return {
            "environment": env.name,
            "servers": [state_view(s, env, s.server_name) for s in states_in(session, env)],
        }

    return json_response(request, await run(request, work))


async def environment_history(request: Request) -> Response:
    name = request.path_params["env"]
    limit = query_int(request, "limit", 100, 1, 500)
    cursor = query_id_cursor(request)
    params = request.query_params

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        require(principal, "read", environment=name)
        env = environments.get_environment(session, name)
        page = deploy_history.history(
            session,
            env,
            cursor=cursor,
            limit=limit,
            action=params.get("action"),
            visible=principal.covers_server,
        )
        return page.to_dict()

    return json_response(request, await run(request, work))


def routes() -> list[BaseRoute]:
    return [
        Route("/api/environments", list_environments, methods=["GET"]),
        Route("/api/environments", create_environment, methods=["POST"]),
        Route(ENV, get_environment, methods=["GET"]),
        Route(ENV, update_environment, methods=["PATCH"]),
        Route(f"{ENV}/servers", deployed_servers, methods=["GET"]),
        Route(f"{ENV}/history", environment_history, methods=["GET"]),
    ]


def run_scheduler_once(engine: sa.Engine) -> scheduler.TickReport:
    """One pass: a cheap read first, so an idle replica never takes a write lock."""
    with unit_of_work(engine) as session:
        if not scheduler.due(session):
            return scheduler.TickReport()
    with unit_of_work(engine, write=True) as session:
        return scheduler.tick(session)


def install(app: Starlette) -> None:
    # resolve is what every client of a deployed server calls: first in line, so it does not
    # try some seventy patterns before its own (no other route matches its paths).
    app.router.routes.insert(0, resolve.resolve_route())
    app.router.routes.extend([*routes(), *deployments.routes(), *env_views.routes()])
    app.state.targets = app.state.cache.memo(resolve.TARGETS)
    app.state.target_builds = resolve.target_builds(app)
    app.state.answers.append(resolve.from_memory)
