"""``GET /api/environments/{env}/servers/{name}/health``: the prober's view of what runs there."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_response, run, server_name
from mcpreg.api.schemas.health import TargetHealth
from mcpreg.domain.principal import Principal
from mcpreg.services import health


async def target_health(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)

    def work(session: Session, principal: Principal) -> health.HealthReport:
        return health.target_health(session, principal, env, name)

    return json_response(request, TargetHealth.of(await run(request, work)))
