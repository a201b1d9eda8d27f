"""The gateway's rate limits over HTTP: an environment's default and per-server overrides.

``GET .../environments/{env}/rate-limits`` lists them; ``.../environments/{env}/rate-limit``
is the default and ``.../environments/{env}/servers/{name}/rate-limit`` one server's,
each with GET, PUT (``{rate, burst, clientRate, clientBurst}``) and DELETE.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, run, server_name
from mcpreg.api.schemas.rate_limits import RateLimit, RateLimitList
from mcpreg.domain.principal import Principal
from mcpreg.domain.rate_limits import parse_limits
from mcpreg.services import rate_limits


def _server(request: Request) -> str | None:
    return server_name(request) if "namespace" in request.path_params else None


async def list_limits(request: Request) -> Response:
    env = request.path_params["env"]

    def work(session: Session, principal: Principal) -> list[rate_limits.RateLimitInfo]:
        return rate_limits.list_limits(session, principal, env)

    listed = RateLimitList(environment=env, limits=[RateLimit.of(r) for r in await run(request, work)])
    return json_response(request, listed)


async def get_limit(request: Request) -> Response:
    env, server = request.path_params["env"], _server(request)

    def work(session: Session, principal: Principal) -> rate_limits.RateLimitInfo:
        return rate_limits.get_limit(session, principal, env, server)

    return json_response(request, RateLimit.of(await run(request, work)))


async def put_limit(request: Request) -> Response:
    env, server = request.path_params["env"], _server(request)
    limits = parse_limits(await json_object(request))

    def work(session: Session, principal: Principal) -> rate_limits.RateLimitInfo:
        return rate_limits.set_limit(session, principal, env, server, limits)

    return json_response(request, RateLimit.of(await run(request, work, write=True)))


async def delete_limit(request: Request) -> Response:
    env, server = request.path_params["env"], _server(request)

    def work(session: Session, principal: Principal) -> None:
        rate_limits.delete_limit(session, principal, env, server)

    await run(request, work, write=True)
    return Response(status_code=204)
