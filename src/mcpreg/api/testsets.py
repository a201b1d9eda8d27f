"""Test sets over HTTP: ``/api/servers/{namespace}/{server}/testsets[/{testset}[/runs[/{id}]]]``.

``PUT`` stores a set whole (``publish`` scope over the server), ``GET`` reads one or lists
them, ``DELETE`` removes one. ``POST .../runs`` with ``{environment, version?}`` runs it
(``deploy`` scope over the server and the environment): the run is stored and answered,
201, whatever its result. The calls to the upstream are made outside any transaction.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, path_row_id, query_int, run, server_name
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.testsets import run_answer, run_list, testset_answer, testset_list
from mcpreg.domain.principal import Principal
from mcpreg.domain.testsets import check_name
from mcpreg.errors import ValidationFailed
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import get_server
from mcpreg.services.testsets import runs, sets
from mcpreg.services.testsets.runner import run_testset

_RUN_FIELDS = frozenset({"environment", "version"})


def _target(request: Request) -> tuple[str, str]:
    return server_name(request), check_name(request.path_params["testset"])


async def list_testsets(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return testset_list(name, sets.list_testsets(session, principal, name))

    return json_response(request, await run(request, work))


async def get_testset(request: Request) -> Response:
    name, testset = _target(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return testset_answer(sets.get_testset(session, principal, name, testset))

    return json_response(request, await run(request, work))


async def put_testset(request: Request) -> Response:
    name, testset = _target(request)
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> tuple[dict[str, Any], bool]:
        stored, created = sets.put_testset(session, principal, name, testset, body)
        return testset_answer(stored), created

    answer, created = await run(request, work, write=True)
    return json_response(request, answer, status=201 if created else 200)


async def delete_testset(request: Request) -> Response:
    name, testset = _target(request)

    def work(session: Session, principal: Principal) -> None:
        sets.delete_testset(session, principal, name, testset)

    await run(request, work, write=True)
    return Response(status_code=204)


def _run_body(body: dict[str, Any]) -> tuple[str, str | None]:
    for key in body:
        if key not in _RUN_FIELDS:
            raise ValidationFailed(
                f"unknown field {key!r}; one of environment, version", field=key, code="unknown_field"
            )
    environment, version = body.get("environment"), body.get("version")
    if not isinstance(environment, str) or not environment:
        raise ValidationFailed(
            "environment is required: the environment to run the set in", field="environment"
        )
    if version is not None and (not isinstance(version, str) or not version):
        raise ValidationFailed(
            "version is a version string, or left out for the canary/stable", field="version"
        )
    return environment, version


async def start_run(request: Request) -> Response:
    name, testset = _target(request)
    environment, version = _run_body(await json_object(request))

    def allowed(session: Session, principal: Principal) -> tuple[str, str, str]:
        runs.require_run(principal, name, environment)
        # 404s before any call: the server and the environment (the set and the version: the plan).
        return get_server(session, name).name, get_environment(session, environment).name, principal.name

    server, env, caller = await run(request, allowed)
    rt = runtime(request.app)
    done = await run_testset(
        rt.engine,
        rt.keyring,
        rt.settings,
        server=server,
        environment=env,
        testset=testset,
        version=version,
        started_by=caller,
        trigger="person",
    )
    return json_response(request, run_answer(done), status=201)


async def list_runs(request: Request) -> Response:
    name, testset = _target(request)
    limit = query_int(request, "limit", 20, 1, 100)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return run_list(name, testset, runs.list_runs(session, principal, name, testset, limit=limit))

    return json_response(request, await run(request, work))


async def get_run(request: Request) -> Response:
    name, testset = _target(request)
    run_id = path_row_id(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return run_answer(runs.get_run(session, principal, name, testset, run_id))

    return json_response(request, await run(request, work))
