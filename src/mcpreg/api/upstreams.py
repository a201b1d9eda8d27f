"""Admin API of the subregistry: declared upstreams, syncing one now, and its runs.

``POST /api/upstreams/{name}/sync`` runs the sync in the request (on a worker thread) and
answers its run when it ends; the sync takes the upstream's lease, so a second one at the
same time answers 409 ``sync_in_progress``. An upstream that fails answers 502
``upstream_failed`` (the run is recorded with the error either way).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, principal_of, query_bool, query_int, run
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.upstreams import Runs, SyncRun, Upstream, UpstreamDetail, UpstreamList
from mcpreg.domain.principal import Principal
from mcpreg.services.mirror import runs, sync, upstreams
from mcpreg.services.tokens import require

UPSTREAMS = "/api/upstreams"
UPSTREAM = "/api/upstreams/{name}"


def _name(request: Request) -> str:
    return str(request.path_params["name"])


async def list_upstreams(request: Request) -> Response:
    def work(session: Session, principal: Principal) -> list[upstreams.UpstreamInfo]:
        require(principal, "admin")
        return [upstreams.UpstreamInfo.of(u) for u in upstreams.all_upstreams(session)]

    return json_response(request, UpstreamList(upstreams=[Upstream.of(u) for u in await run(request, work)]))


async def create_upstream(request: Request) -> Response:
    body = await json_object(request)
    keyring = runtime(request.app).keyring

    def work(session: Session, principal: Principal) -> upstreams.UpstreamInfo:
        require(principal, "admin")
        name, given = upstreams.parse_input(body, creating=True)
        assert name is not None
        return upstreams.UpstreamInfo.of(upstreams.create(session, keyring, principal, name, given))

    return json_response(request, Upstream.of(await run(request, work, write=True)), status=201)


async def get_upstream(request: Request) -> Response:
    name = _name(request)

    def work(session: Session, principal: Principal) -> UpstreamDetail:
        require(principal, "admin")
        upstream = upstreams.get(session, name)
        last = runs.runs_of(session, upstream, limit=1)
        info = upstreams.UpstreamInfo.of(upstream)
        return UpstreamDetail.of({**vars(info), "last_run": runs.RunInfo.of(last[0]) if last else None})

    return json_response(request, await run(request, work))


async def change_upstream(request: Request) -> Response:
    name = _name(request)
    body = await json_object(request)
    keyring = runtime(request.app).keyring

    def work(session: Session, principal: Principal) -> upstreams.UpstreamInfo:
        require(principal, "admin")
        _, given = upstreams.parse_input(body, creating=False)
        return upstreams.UpstreamInfo.of(upstreams.change(session, keyring, principal, name, given))

    return json_response(request, Upstream.of(await run(request, work, write=True)))


async def remove_upstream(request: Request) -> Response:
    name = _name(request)

    def work(session: Session, principal: Principal) -> None:
        upstreams.remove(session, principal, name)

    await run(request, work, write=True)
    return Response(status_code=204)


async def sync_upstream(request: Request) -> Response:
    name = _name(request)
    full = query_bool(request, "full")
    rt = runtime(request.app)
    principal = await principal_of(request)
    options = sync.SyncOptions(
        holder=sync.holder("api"),
        overlap=timedelta(seconds=rt.settings.mirror_overlap),
        full=full,
        private_remotes=rt.settings.allow_private_remotes,
    )

    def work() -> runs.RunInfo:
        with sync.upstream_client() as client:
            return sync.sync(rt.engine, rt.keyring, client, principal, name, options)

    try:
        result = await run_in_threadpool(work)
    finally:
        rt.cache.wrote(None, [])  # whatever the pages changed: drop this replica's answers
    return json_response(request, SyncRun.of(result))


async def list_runs(request: Request) -> Response:
    name = _name(request)
    limit = query_int(request, "limit", 20, 1, runs.MAX_RUNS)
    refused = query_bool(request, "refused")

    def work(session: Session, principal: Principal) -> list[runs.RunInfo]:
        require(principal, "admin")
        upstream = upstreams.get(session, name)
        found = runs.runs_of(session, upstream, limit=limit)
        return [runs.RunInfo.of(r, runs.refusals_of(session, r) if refused else None) for r in found]

    return json_response(request, Runs(runs=[SyncRun.of(r) for r in await run(request, work)]))
