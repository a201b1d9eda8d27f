"""Environments under ``/api/environments``: list, create, read, update, their servers and history."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, query_id_cursor, query_int, run
from mcpreg.api.schemas.deployments import TargetList
from mcpreg.api.schemas.environments import Environment, EnvironmentList
from mcpreg.api.schemas.history import History
from mcpreg.domain.principal import Principal
from mcpreg.services import environments
from mcpreg.services.deploy import events
from mcpreg.services.deploy.states import TargetInfo, states_in
from mcpreg.services.environments import EnvironmentInfo as Info
from mcpreg.services.tokens import require


async def list_environments(request: Request) -> Response:
    def work(session: Session, _p: Principal) -> list[Info]:
        return [Info.of(e) for e in environments.list_environments(session)]

    listed = EnvironmentList(environments=[Environment.of(e) for e in await run(request, work)])
    return json_response(request, listed)


async def create_environment(request: Request) -> Response:
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> Info:
        return Info.of(environments.create_environment(session, principal, body))

    return json_response(request, Environment.of(await run(request, work, write=True)), status=201)


async def get_environment(request: Request) -> Response:
    name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> Info:
        return Info.of(environments.get_environment(session, name))

    return json_response(request, Environment.of(await run(request, work)))


async def update_environment(request: Request) -> Response:
    name = request.path_params["env"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> Info:
        return Info.of(environments.update_environment(session, principal, name, body))

    return json_response(request, Environment.of(await run(request, work, write=True)))


async def deployed_servers(request: Request) -> Response:
    """Everything that runs in one environment, with its rollout."""
    name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> TargetList:
        env = environments.get_environment(session, name)
        servers = [TargetInfo.of(s, env, s.server_name) for s in states_in(session, env)]
        return TargetList.of({"environment": env.name, "servers": servers})

    return json_response(request, await run(request, work))


async def environment_history(request: Request) -> Response:
    name = request.path_params["env"]
    limit = query_int(request, "limit", 100, 1, 500)
    cursor = query_id_cursor(request)
    params = request.query_params

    def work(session: Session, principal: Principal) -> events.HistoryPage:
        require(principal, "read", environment=name)
        env = environments.get_environment(session, name)
        return events.history(
            session,
            env,
            cursor=cursor,
            limit=limit,
            action=params.get("action"),
            visible=principal.covers_server,
        )

    return json_response(request, History.of(await run(request, work)))
