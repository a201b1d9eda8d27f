"""Configuration: a server's variables, its secrets as names only, and the effective set.

Reading needs a token over the server (the API's rule; environment overrides only of the
environments it covers). Secrets are listed by name, scope, key id, who set them and when:
never a value. Revealing the effective configuration's secret values needs ``secrets:read``
over the server and the environment and a reason, and is journaled (``config.reveal``); the
values appear on that one answer only (``Cache-Control: no-store``). Setting a secret takes
a password field and never echoes the value back.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import server_name
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.configuration import Secret, Variable
from mcpreg.console.servers import path_of
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, back_to, form_text, page, submit, visit
from mcpreg.crypto import SecretValue
from mcpreg.errors import Unauthenticated, ValidationFailed
from mcpreg.services import environments, releases
from mcpreg.services.configuration import effective as config_effective
from mcpreg.services.configuration import values as config_values
from mcpreg.services.configuration.effective import MASK
from mcpreg.services.configuration.slots import SECRETS, VARIABLES
from mcpreg.services.tokens import require

MAX_VALUE = 65536


def _where(form: FormData) -> tuple[str | None, str | None]:
    """The scope field: ``server``, ``version:<v>`` or ``environment:<env>``."""
    where = form_text(form, "where", required=False, limit=300) or "server"
    kind, _, value = where.partition(":")
    if kind == "server" and not value:
        return None, None
    if kind == "version" and value:
        return value, None
    if kind == "environment" and value:
        return None, value
    raise ValidationFailed("where is server, version:<version> or environment:<name>", field="where")


def _read(
    session: Session,
    request: Request,
    visitor: Visitor,
    name: str,
    version: str | None,
    environment: str | None,
) -> dict[str, Any]:
    if not visitor.signed_in:
        raise Unauthenticated("the configuration needs a token: sign in", field="session")
    principal = visitor.principal
    # The API's read check first; the rows as the API shows them.
    listed = config_values.list_values(session, principal, VARIABLES, name)
    variables = [Variable.of(v).model_dump(mode="json") for v in listed]
    secrets = [
        Secret.of(s).model_dump(mode="json")
        for s in config_values.list_values(session, principal, SECRETS, name)
    ]
    server = releases.get_server(session, name)
    versions = [r.version for r in releases.all_releases(session, server) if r.status != "deleted"]
    envs = [e.name for e in environments.list_environments(session) if principal.covers_environment(e.name)]
    chosen = version or releases.latest_version(session, server) or (versions[0] if versions else None)
    effective = None
    if chosen is not None:
        if environment is not None:  # as ``GET .../environments/{env}/servers/{name}/config``
            require(principal, "read", server=name, environment=environment)
            environments.get_environment(session, environment)
        effective = config_effective.effective_config(
            session, runtime(request.app).keyring, name, chosen, environment, reveal=False
        )
    return {
        "visitor": visitor,
        "variables": variables,
        "secrets": secrets,
        "versions": versions,
        "environments": envs,
        "version": chosen,
        "environment": environment,
        "effective": effective,
        "revealed": False,
        "can_reveal": principal.has_scope("secrets:read")
        and (environment is None or principal.covers_environment(environment)),
        "mask": MASK,
    }


def _query(request: Request, name: str, limit: int) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"{name} is at most {limit} characters", field=name)
    return value or None


def _config_path(name: str) -> str:
    return f"{path_of(name)}/config"


def _render(request: Request, name: str, context: dict[str, Any]) -> Response:
    return render(request, "config.html", {**context, "title": f"Configuration of {name}", "name": name})


@page
async def config_page(request: Request) -> Response:
    name = server_name(request)
    version, environment = _query(request, "version", 255), _query(request, "environment", 64)
    context = await visit(request, lambda s, v: _read(s, request, v, name, version, environment))
    return _render(request, name, context)


@page
async def set_variable(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        var = form_text(form, "name", limit=128) or ""
        value = form.get("value")
        if not isinstance(value, str):
            raise ValidationFailed("value is required", field="value", code="value_required")
        version, environment = _where(form)
        config_values.set_variable(
            session, visitor.principal, name, var, value, version=version, environment=environment
        )
        return var

    var = await submit(request, work)
    return back_to(_config_path(name), f"Variable {var} set.")


@page
async def set_secret(request: Request) -> Response:
    name = server_name(request)
    keyring = runtime(request.app).keyring

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        secret = form_text(form, "name", limit=128) or ""
        raw = form.get("value")
        if not isinstance(raw, str) or not raw:
            raise ValidationFailed("value is required", field="value", code="value_required")
        version, environment = _where(form)
        config_values.set_secret(
            session,
            keyring,
            visitor.principal,
            name,
            secret,
            SecretValue(raw),
            version=version,
            environment=environment,
        )
        return secret

    secret = await submit(request, work)
    return back_to(_config_path(name), f"Secret {secret} set (its value is not shown).")


@page
async def reveal(request: Request) -> Response:
    """The effective configuration with secret values, for this answer only; journaled."""
    name = server_name(request)
    keyring = runtime(request.app).keyring

    def work(session: Session, visitor: Visitor, form: FormData) -> dict[str, Any]:
        version = form_text(form, "version", limit=255) or ""
        environment = form_text(form, "environment", required=False, limit=64)
        reason = form_text(form, "reason", limit=500)
        revealed = config_effective.reveal_config(
            session, keyring, visitor.principal, name, version, environment, reason
        )
        context = _read(session, request, visitor, name, version, environment)
        return {**context, "effective": revealed, "revealed": True, "reason": reason}

    return _render(request, name, await submit(request, work))
