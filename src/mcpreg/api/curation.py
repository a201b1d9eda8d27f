"""Admin API of curation (issue 14): allow/deny rules, local namespaces, pins, the listing.

Every route needs the ``admin`` scope. A rule change applies at once to what is mirrored
already and answers the servers it ``withheld`` and ``restored``; ``force`` lets it withhold
a release that runs in an environment (else 409 ``release_in_use``). Local statuses have no
route of their own: a status PATCH on a mirrored release is one
(``PATCH /v0.1/servers/{name}/versions/{version}/status``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, query_bool, query_param, run, server_name
from mcpreg.api.registry import SERVER
from mcpreg.api.schemas.curation import Curation, LocalNamespace, Pin, RuleChange, Unpinned
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services.curation import listing, namespaces, pins, rules

CURATION = "/api/curation"
RULES = f"{CURATION}/rules"
LOCAL = f"{CURATION}/local/{{namespace}}"
PIN = f"{SERVER}/pin"  # a server's pin sits with its channels
_RULE_FIELDS = frozenset({"pattern", "effect", "upstream", "force"})


def _known(body: dict[str, Any], fields: frozenset[str]) -> None:
    unknown = sorted(set(body) - fields)
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", field=unknown[0], code="unknown_field")


def _force(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed("force must be true or false", field="force")
    return value


async def show(request: Request) -> Response:
    def work(session: Session, principal: Principal) -> listing.Curated:
        return listing.curation(session, principal)

    return json_response(request, Curation.of(await run(request, work)))


async def set_rule(request: Request) -> Response:
    body = await json_object(request)
    _known(body, _RULE_FIELDS)
    force = _force(body.get("force", False))

    def work(session: Session, principal: Principal) -> rules.RuleChange:
        return rules.set_rule(
            session, principal, body.get("pattern"), body.get("effect"), body.get("upstream"), force=force
        )

    return json_response(request, RuleChange.of(await run(request, work, write=True)))


async def remove_rule(request: Request) -> Response:
    pattern, upstream = query_param(request, "pattern"), query_param(request, "upstream")
    force = query_bool(request, "force")

    def work(session: Session, principal: Principal) -> rules.RuleChange:
        return rules.remove_rule(session, principal, pattern, upstream, force=force)

    removed = RuleChange.of(await run(request, work, write=True)).model_copy(update={"removed": True})
    return json_response(request, removed)


async def mark_local(request: Request) -> Response:
    namespace = request.path_params["namespace"]

    def work(session: Session, principal: Principal) -> namespaces.LocalNamespaceInfo:
        return namespaces.mark_local(session, principal, namespace)

    return json_response(request, LocalNamespace.of(await run(request, work, write=True)))


async def unmark_local(request: Request) -> Response:
    namespace = request.path_params["namespace"]

    def work(session: Session, principal: Principal) -> namespaces.LocalNamespaceInfo:
        return namespaces.unmark_local(session, principal, namespace)

    removed = LocalNamespace.of(await run(request, work, write=True)).model_copy(update={"removed": True})
    return json_response(request, removed)


async def pin(request: Request) -> Response:
    name = server_name(request)
    body = await json_object(request)
    _known(body, frozenset({"version"}))

    def work(session: Session, principal: Principal) -> pins.PinInfo:
        return pins.pin(session, principal, name, body.get("version"))

    return json_response(request, Pin.of(await run(request, work, write=True)))


async def unpin(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, principal: Principal) -> pins.Unpinned:
        return pins.unpin(session, principal, name)

    return json_response(request, Unpinned.of(await run(request, work, write=True)))
