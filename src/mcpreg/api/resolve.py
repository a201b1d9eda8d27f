"""``GET /api/environments/{env}/servers/{ns}/{name}/resolve?client=ID``, served from memory.

Clients of a deployed server ask this on every start, so it is answered from a routing
snapshot per (environment, server): the rollout id and canary weight that pick a track,
and the whole answer of each track (release, and effective configuration with secrets
masked) rendered ahead. A request is then the token check (principals are remembered the
same way), one SHA-256 bucket and a dict lookup.

Snapshots are ``Memo`` values of the response cache: dropped with it whenever the change
generation moves (every deploy, step, rollback and configuration change is journalled),
at once for a change made through this replica and within one poll (0.25 s) for one made
through another, so a rollback is served everywhere well within a second.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from mcpreg.api.deployments import TARGET
from mcpreg.api.fastpath.cache import header
from mcpreg.api.fastpath.coalescer import Coalescer
from mcpreg.api.fastpath.memo import Memo
from mcpreg.api.http import bytes_response, principal_of, server_name, token_key
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas import deployments as schema
from mcpreg.api.schemas.configuration import EffectiveConfig as EffectiveConfigAnswer
from mcpreg.crypto import KeyRing
from mcpreg.errors import RegistryError
from mcpreg.services.configuration.effective import EffectiveConfig
from mcpreg.services.deploy import routing
from mcpreg.services.deploy.targets import RoutedTarget, build_target, build_targets
from mcpreg.services.tokens import require

TARGETS = 20_000  # snapshots kept per replica until the next change
PATH = f"{TARGET}/resolve"
# PATH as Starlette matches it: each parameter is one path segment.
_PATH = re.compile(re.sub(r"\{\w+\}", "([^/]+)", PATH))


def targets_of(request: Request) -> Memo[tuple[str, str], RoutedTarget]:
    return runtime(request.app).targets


async def resolve(request: Request) -> Response:
    """Which release this client gets, and its effective configuration (secrets masked)."""
    env, name = request.path_params["env"], server_name(request)
    client = request.query_params.get("client") or request.headers.get("x-client-id") or None
    principal = await principal_of(request)
    require(principal, "read", server=name, environment=env)
    targets = targets_of(request)
    target = targets.get((env, name))
    if target is None:
        rt = runtime(request.app)
        epoch = rt.cache.epoch
        # Clients of a target that just changed all miss at once: they share one build.
        target = await rt.target_builds.get((env, name))
        if target is None:  # nothing to route to: worked out again here, to raise its error
            target = await run_in_threadpool(build_target, rt.engine, rt.keyring, env, name, render)
        targets.put((env, name), target, epoch)
    return bytes_response(request, target.body_for(client))


def target_builds(engine: sa.Engine, keyring: KeyRing) -> Coalescer[tuple[str, str], RoutedTarget]:
    """Concurrent snapshot builds, gathered into one unit of work."""
    return Coalescer(lambda keys: build_targets(engine, keyring, keys, render))


def render(resolution: routing.Resolution, config: EffectiveConfig) -> bytes:
    """One track's answer (``schemas.deployments.Resolution``), written once per change."""
    return (
        schema.Resolution(
            server=resolution.server,
            environment=resolution.environment,
            version=resolution.release.version,
            track=resolution.track,
            rollout_id=resolution.rollout_id,
            weight=resolution.weight,
            config=EffectiveConfigAnswer.of(config),
        )
        .model_dump_json()
        .encode()
    )


async def from_memory(scope: Scope) -> bytes | None:
    """resolve's answer at the front door (``api.fastpath.front_door.CachedResponses``), without routing.

    Only when both the caller's token and the target are remembered and the token may
    read it; None sends the request down ``resolve``, which answers everything else
    (and every error) in full. The answer is byte for byte what ``resolve`` sends.
    """
    match = _PATH.fullmatch(scope["path"])
    authorization = header(scope, b"authorization") if match is not None else None
    if match is None or not authorization:
        return None
    rt = runtime(scope["app"])
    principal = rt.principals.get(token_key(authorization))
    env, name = match[1], f"{match[2]}/{match[3]}"
    target = rt.targets.get((env, name))
    if principal is None or target is None:
        return None
    try:
        require(principal, "read", server=name, environment=env)
    except RegistryError:
        return None
    client = client_parameter(scope["query_string"]) or header(scope, b"x-client-id") or None
    return target.body_for(client)


def client_parameter(query: bytes) -> str | None:
    """``?client=`` as ``request.query_params.get("client")`` reads it (the last one wins).

    Split by hand when nothing in the query is escaped: parsing it whole costs more than
    the rest of the answer.
    """
    if b"%" in query or b"+" in query:
        return QueryParams(query).get("client")
    value = None
    for part in query.split(b"&"):
        name, _, raw = part.partition(b"=")
        if name == b"client":
            value = raw.decode("latin-1")
    return value
