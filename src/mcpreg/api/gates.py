"""Promotion gates over HTTP.

``/api/environments/{env}/gates`` lists an environment's gates; ``.../gates/{name}`` is one,
with GET, PUT (declare or replace; admin) and DELETE (admin). A webhook's secret goes in
with a PUT and never comes out: answers say only ``secretSet``.
``.../servers/{ns}/{name}/gates`` shows the target's gate runs and what it waits on.
The deploy and promote requests' ``gates`` are sealed here too (``sealed_plan``), before the
deployment service sees them.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TypeVar

import orjson
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, run, server_name
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas import gates as schemas
from mcpreg.db.gate_tables import GateRun
from mcpreg.domain.deploy_requests import Plan
from mcpreg.domain.gates import WEBHOOK, parse_gate
from mcpreg.domain.principal import Principal
from mcpreg.services.gates import report, store
from mcpreg.services.gates.runs import Wait

P = TypeVar("P", bound=Plan)


def sealed_plan(request: Request, plan: P) -> P:
    """The deploy or promote request with its gates' secrets sealed by this registry's key ring."""
    if not plan.gates:
        return plan
    return replace(plan, gates=store.seal_specs(runtime(request.app).keyring, plan.gates))


def gate_answer(gate: store.DeclaredGate) -> schemas.Gate:
    g = gate.gate
    webhook = g.kind == WEBHOOK
    return schemas.Gate(
        name=g.name,
        environment=gate.environment,
        deployment_id=gate.deployment_id,
        kind=g.kind,
        points=list(g.points),
        url=g.url if webhook else None,
        timeout_seconds=g.timeout if webhook else None,
        secret_set=gate.has_secret if webhook else None,
        testset=g.testset,
        retry=schemas.Retry(initial_seconds=g.retry.initial, max_seconds=g.retry.cap),
    )


def run_answer(run: GateRun) -> schemas.GateRun:
    assert run.id is not None
    return schemas.GateRun(
        id=run.id,
        deployment_id=run.deployment_id,
        rollout_id=run.rollout_id,
        version=run.version,
        point=run.point,
        step=run.step,
        gate=run.gate_name,
        kind=run.gate_kind,
        attempt=run.attempt,
        result=run.result,
        http_status=run.http_status,
        failure=run.failure,
        failing=orjson.loads(run.failing) if run.failing else [],
        elapsed_ms=run.elapsed_ms,
        delivery_id=run.delivery_id,
        testset_run_id=run.testset_run_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        retry_at=run.retry_at,
    )


def wait_answer(wait: Wait) -> schemas.GateWait:
    return schemas.GateWait.model_validate({**asdict(wait), "failing": list(wait.failing)})


async def list_gates(request: Request) -> Response:
    env = request.path_params["env"]

    def work(session: Session, principal: Principal) -> schemas.GateList:
        found = store.list_gates(session, principal, env)
        return schemas.GateList(environment=env, gates=[gate_answer(g) for g in found])

    return json_response(request, await run(request, work))


async def get_gate(request: Request) -> Response:
    env, name = request.path_params["env"], request.path_params["name"]

    def work(session: Session, principal: Principal) -> schemas.Gate:
        return gate_answer(store.get_gate(session, principal, env, name))

    return json_response(request, await run(request, work))


async def put_gate(request: Request) -> Response:
    env, name = request.path_params["env"], request.path_params["name"]
    rt = runtime(request.app)
    spec = parse_gate(
        await json_object(request), name=name, private_remotes=rt.settings.allow_private_remotes
    )

    def work(session: Session, principal: Principal) -> tuple[schemas.Gate, bool]:
        gate, created = store.put_gate(session, rt.keyring, principal, env, spec)
        return gate_answer(gate), created

    answer, created = await run(request, work, write=True)
    return json_response(request, answer, status=201 if created else 200)


async def delete_gate(request: Request) -> Response:
    env, name = request.path_params["env"], request.path_params["name"]

    def work(session: Session, principal: Principal) -> None:
        store.delete_gate(session, principal, env, name)

    await run(request, work, write=True)
    return Response(status_code=204)


async def target_gates(request: Request) -> Response:
    env, name = request.path_params["env"], server_name(request)

    def work(session: Session, principal: Principal) -> schemas.TargetGates:
        found = report.report(session, principal, env, name)
        return schemas.TargetGates(
            server=found.server,
            environment=found.environment,
            rollout_id=found.rollout_id,
            held_deployment=found.held_deployment,
            gates=[gate_answer(g) for g in found.gates],
            waiting_on=[wait_answer(w) for w in found.waiting_on],
            runs=[run_answer(r) for r in found.runs],
        )

    return json_response(request, await run(request, work))
