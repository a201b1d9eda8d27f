"""``GET /api/environments/{env}/servers/{name}/analysis``: the canary analysis of the
current (or last) rollout, every interval's verdict and what it decided."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_response, run, server_name
from mcpreg.api.schemas.analysis import RolloutAnalysis
from mcpreg.domain.principal import Principal
from mcpreg.services import analysis


async def rollout_analysis(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)

    def work(session: Session, principal: Principal) -> analysis.AnalysisReport:
        return analysis.report(session, principal, env, name)

    return json_response(request, RolloutAnalysis.of(await run(request, work)))
