"""``GET /api/environments/{env}/servers/{name}/traffic?window=5m``: the gateway's traffic per version.

Summed over every replica's aggregates in the database (``services.traffic``): request and
error rates, p50/p95/p99 latency from the summed histogram buckets and counts by outcome.
The same ``read`` access as the deployment history.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_response, query_param, run, server_name
from mcpreg.api.schemas.traffic import TrafficReport
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.traffic import WINDOW_RULE, parse_window
from mcpreg.errors import InvalidWindow
from mcpreg.services import traffic
from mcpreg.services.tokens import require

DEFAULT_WINDOW = "5m"


def window_of(request: Request) -> tuple[str, int]:
    """The ``window`` parameter as given and in seconds; a 400 ``invalid_window`` otherwise."""
    raw = query_param(request, "window") or DEFAULT_WINDOW
    seconds = parse_window(raw)
    if seconds is None:
        raise InvalidWindow(f"window must be {WINDOW_RULE}; got {raw[:40]!r}", field="window")
    return raw.strip(), seconds


async def server_traffic(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)
    window, seconds = window_of(request)

    def work(session: Session, principal: Principal) -> traffic.TrafficReport:
        require(principal, "read", server=name, environment=env)
        return traffic.version_traffic(session, env, name, window, seconds, now=utcnow())

    return json_response(request, TrafficReport.of(await run(request, work)))
