"""Deploy, promote, approve, roll out, roll back, resolve and history, over HTTP.

Every write runs in one transaction through ``api.http.run`` (which also drops this
replica's response cache); other replicas see the change at their next generation
poll. Reads here go to the database directly, so they are never stale, except
``resolve`` (``api.resolve``), served from a routing snapshot dropped on every change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.gates import sealed_plan
from mcpreg.api.http import (
    json_object,
    json_response,
    path_row_id,
    query_id_cursor,
    query_int,
    run,
    server_name,
)
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.deployments import DeploymentAnswer, DeploymentList, ServerTargets, Target
from mcpreg.api.schemas.history import History
from mcpreg.db.deploy_tables import Deployment
from mcpreg.domain.deploy_requests import parse_deploy, parse_notes, parse_promote
from mcpreg.domain.principal import Principal
from mcpreg.errors import NotFound, ValidationFailed
from mcpreg.services import environments, releases
from mcpreg.services.deploy import deployments, events, rollouts
from mcpreg.services.deploy.deployments import DeploymentInfo
from mcpreg.services.deploy.states import TargetInfo, find_state, states_of
from mcpreg.services.mirror import provenance
from mcpreg.services.tokens import require

# Here, not in api/environments.py: that module imports this one to install these routes.
ENV = "/api/environments/{env}"
TARGET = f"{ENV}/servers/{{namespace}}/{{server}}"  # a deployment target: one server in one environment


def _current(session: Session, deployment: Deployment) -> DeploymentAnswer:
    """A deployment and what runs on its target now."""
    env = environments.get_environment(session, deployment.environment)
    server = releases.get_server(session, deployment.server_name)
    current = TargetInfo.of(find_state(session, server, env), env, server.name)
    return DeploymentAnswer.of({"deployment": DeploymentInfo.of(deployment), "current": current})


async def deploy(request: Request) -> Response:
    env = request.path_params["env"]
    private = runtime(request.app).settings.allow_private_remotes
    plan = sealed_plan(request, parse_deploy(await json_object(request), private_remotes=private))

    def work(session: Session, principal: Principal) -> DeploymentAnswer:
        return _current(session, deployments.deploy(session, principal, env, plan))

    return json_response(request, await run(request, work, write=True), status=201)


async def promote(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    private = runtime(request.app).settings.allow_private_remotes
    plan = sealed_plan(request, parse_promote(await json_object(request), private_remotes=private))

    def work(session: Session, principal: Principal) -> DeploymentAnswer:
        return _current(session, deployments.promote(session, principal, name, version, plan))

    return json_response(request, await run(request, work, write=True), status=201)


async def list_deployments(request: Request) -> Response:
    env = request.path_params["env"]
    state = request.query_params.get("state") or None
    server = request.query_params.get("server") or None
    limit = query_int(request, "limit", 100, 1, 500)
    if state is not None and state not in deployments.STATES:
        raise ValidationFailed(f"state is one of {', '.join(deployments.STATES)}", field="state")

    def work(session: Session, principal: Principal) -> list[DeploymentInfo]:
        require(principal, "read", server=server, environment=env)
        rows = deployments.list_deployments(
            session, env, state=state, server=server, limit=limit, visible=principal.covers_server
        )
        return [DeploymentInfo.of(d) for d in rows]

    return json_response(request, DeploymentList.of({"deployments": await run(request, work)}))


def _deployment_id(request: Request) -> int:
    """The ``{id}`` of the path; one beyond any row id names no deployment (404, not a 500)."""
    deployment_id = path_row_id(request)
    if deployment_id is None:
        env, raw = request.path_params["env"], request.path_params["id"]
        raise NotFound(f"no deployment {raw} in {env}", field="id", code="deployment_not_found")
    return deployment_id


async def get_deployment(request: Request) -> Response:
    env = request.path_params["env"]

    def work(session: Session, principal: Principal) -> DeploymentAnswer:
        require(principal, "read", environment=env)
        found = deployments.get_deployment(session, env, _deployment_id(request))
        require(principal, "read", server=found.server_name, environment=env)
        return _current(session, found)

    return json_response(request, await run(request, work))


def decision(decide: Callable[..., Deployment]) -> Callable[[Request], Awaitable[Response]]:
    """The handler that approves or cancels a waiting deployment."""

    async def handler(request: Request) -> Response:
        env, deployment_id = request.path_params["env"], _deployment_id(request)
        notes = parse_notes(await json_object(request, optional=True))

        def work(session: Session, principal: Principal) -> DeploymentAnswer:
            return _current(session, decide(session, principal, env, deployment_id, notes=notes))

        return json_response(request, await run(request, work, write=True))

    return handler


async def get_rollout(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)

    def work(session: Session, _p: Principal) -> TargetInfo:
        environment = environments.get_environment(session, env)
        server = releases.get_server(session, name)
        return TargetInfo.of(find_state(session, server, environment), environment, server.name)

    return json_response(request, Target.of(await run(request, work)))


def rollout_action(action: str) -> Callable[[Request], Awaitable[Response]]:
    """The handler for one rollout action: promote, pause, resume or abort."""

    async def handler(request: Request) -> Response:
        env, name = request.path_params["env"], server_name(request)
        body = await json_object(request, optional=True)
        full = body.pop("full", False) if action == "promote" else False
        if not isinstance(full, bool):
            raise ValidationFailed("full must be true or false", field="full")
        notes = parse_notes(body)

        def work(session: Session, principal: Principal) -> TargetInfo:
            state = rollouts.transition(session, principal, name, env, action, full=full, notes=notes)
            return TargetInfo.of(state, environments.get_environment(session, env), name)

        return json_response(request, Target.of(await run(request, work, write=True)))

    return handler


async def rollback(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)
    body = await json_object(request, optional=True)
    version = body.pop("version", None)
    if version is not None and not isinstance(version, str):
        raise ValidationFailed("version must be a string", field="version")
    notes = parse_notes(body)

    def work(session: Session, principal: Principal) -> TargetInfo:
        state = rollouts.rollback(session, principal, name, env, version=version, notes=notes)
        return TargetInfo.of(state, environments.get_environment(session, env), name)

    return json_response(request, Target.of(await run(request, work, write=True)))


async def server_history(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)
    limit = query_int(request, "limit", 100, 1, 500)
    cursor = query_id_cursor(request)
    params = request.query_params

    def work(session: Session, principal: Principal) -> events.HistoryPage:
        require(principal, "read", server=name, environment=env)
        environment = environments.get_environment(session, env)
        server = releases.get_server(session, name)
        return events.history(
            session,
            environment,
            server_id=server.id,
            cursor=cursor,
            limit=limit,
            action=params.get("action"),
        )

    return json_response(request, History.of(await run(request, work)))


async def where(request: Request) -> Response:
    """What runs of one server in every environment, in promotion order."""
    name = server_name(request)

    def work(session: Session, _p: Principal) -> ServerTargets:
        server = releases.get_server(session, name)
        states = states_of(session, server)
        targets = [
            TargetInfo.of(states.get(env.id or 0), env, server.name)
            for env in environments.list_environments(session)
        ]
        # A mirrored server also names the upstream that brought it (left out for a local one).
        source = provenance.server_source(session, server.name)
        return ServerTargets.of({"server": server.name, "environments": targets, "source": source})

    return json_response(request, await run(request, work))
