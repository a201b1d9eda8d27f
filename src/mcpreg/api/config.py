"""Variables, secrets and effective configuration over HTTP, and the app's key ring.

``load_app_keyring`` loads the key ring once, when the app is created: outside
development mode a missing or placeholder key raises ``ConfigurationError``, so
``mcpreg serve`` refuses to start. Secret values travel in request bodies only and leave the service only in
the effective configuration of a caller holding ``secrets:read``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.deployments import TARGET
from mcpreg.api.http import json_object, json_response, query_bool, run, server_name
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.configuration import EffectiveConfig, Secret, SecretList, Variable, VariableList
from mcpreg.crypto import KeyRing, SecretValue, load_keyring
from mcpreg.crypto.keyring import ENV_KEYS, ENV_KEYS_FILE
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services.configuration import effective as config_effective
from mcpreg.services.configuration import values as config_values
from mcpreg.services.configuration.slots import (
    SECRETS,
    VARIABLES,
    SecretInfo,
    VariableInfo,
    check_environment,
)
from mcpreg.services.deploy import routing
from mcpreg.services.environments import get_environment
from mcpreg.services.tokens import require
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg")

CONFIG = f"{TARGET}/config"
NO_STORE = "no-store"


def keyring_of(request: Request) -> KeyRing:
    return runtime(request.app).keyring


def load_app_keyring(settings: Settings) -> KeyRing:
    """The ring from the settings' environment; logs the development-mode warning loudly."""
    env = dict(settings.environ)
    if settings.secret_keys and not env.get(ENV_KEYS):
        env[ENV_KEYS] = settings.secret_keys
    if settings.secret_keys_file and not env.get(ENV_KEYS_FILE):
        env[ENV_KEYS_FILE] = str(settings.secret_keys_file)
    keyring, warning = load_keyring(env, settings.data_dir, settings.dev)
    if warning:
        log.warning("%s", warning)
    return keyring


def _scoping(request: Request) -> dict[str, str | None]:
    params = request.query_params
    return {"version": params.get("version") or None, "environment": params.get("environment") or None}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response


def _value(body: dict[str, Any]) -> object:
    if "value" not in body:
        raise ValidationFailed(
            'the body needs a value: {"value": "..."}', field="value", code="value_required"
        )
    return body["value"]


# -- variables -----------------------------------------------------------------------


async def list_variables(request: Request) -> Response:
    name, scoping = server_name(request), _scoping(request)

    def work(session: Session, principal: Principal) -> list[VariableInfo]:
        return config_values.list_values(session, principal, VARIABLES, name, **scoping)

    listed = VariableList(variables=[Variable.of(v) for v in await run(request, work)])
    return _private(json_response(request, listed))


async def get_variable(request: Request) -> Response:
    name, var, scoping = server_name(request), request.path_params["var"], _scoping(request)

    def work(session: Session, principal: Principal) -> VariableInfo:
        return config_values.get_value(session, principal, VARIABLES, name, var, **scoping)

    return _private(json_response(request, Variable.of(await run(request, work))))


async def put_variable(request: Request) -> Response:
    name, var, scoping = server_name(request), request.path_params["var"], _scoping(request)
    value = _value(await json_object(request))

    def work(session: Session, principal: Principal) -> VariableInfo:
        return config_values.set_variable(session, principal, name, var, value, **scoping)

    done = await run(request, work, write=True)
    return _private(json_response(request, Variable.of(done), status=201 if done.revision == 1 else 200))


async def delete_variable(request: Request) -> Response:
    name, var, scoping = server_name(request), request.path_params["var"], _scoping(request)

    def work(session: Session, principal: Principal) -> None:
        config_values.delete_value(session, principal, VARIABLES, name, var, **scoping)

    await run(request, work, write=True)
    return Response(status_code=204)


# -- secrets ---------------------------------------------------------------------------


async def list_secrets(request: Request) -> Response:
    name, scoping = server_name(request), _scoping(request)

    def work(session: Session, principal: Principal) -> list[SecretInfo]:
        return config_values.list_values(session, principal, SECRETS, name, **scoping)

    listed = SecretList(secrets=[Secret.of(v) for v in await run(request, work)])
    return _private(json_response(request, listed))


async def get_secret(request: Request) -> Response:
    name, secret, scoping = server_name(request), request.path_params["secret"], _scoping(request)

    def work(session: Session, principal: Principal) -> SecretInfo:
        return config_values.get_value(session, principal, SECRETS, name, secret, **scoping)

    return _private(json_response(request, Secret.of(await run(request, work))))


async def put_secret(request: Request) -> Response:
    name, secret, scoping = server_name(request), request.path_params["secret"], _scoping(request)
    raw = _value(await json_object(request))
    if not isinstance(raw, str):
        raise ValidationFailed("value must be a string", field="value", code="invalid_value")
    value = SecretValue(raw)
    del raw
    keyring = keyring_of(request)

    def work(session: Session, principal: Principal) -> SecretInfo:
        return config_values.set_secret(session, keyring, principal, name, secret, value, **scoping)

    done = await run(request, work, write=True)
    return _private(json_response(request, Secret.of(done), status=201 if done.revision == 1 else 200))


async def delete_secret(request: Request) -> Response:
    name, secret, scoping = server_name(request), request.path_params["secret"], _scoping(request)

    def work(session: Session, principal: Principal) -> None:
        config_values.delete_value(session, principal, SECRETS, name, secret, **scoping)

    await run(request, work, write=True)
    return Response(status_code=204)


# -- effective configuration ---------------------------------------------------------------


def _version_for(
    session: Session, server_name: str, environment: str, version: str | None, client_id: str | None = None
) -> str:
    """The release whose configuration runs in ``environment``.

    ``?version=`` names one; without it, the release routed to ``client_id`` (the
    stable version when no client is given) of what is deployed there (404
    ``no_deployment`` when nothing is).
    """
    if version:
        get_environment(session, environment)
        return version
    return routing.resolve(session, server_name, environment, client_id).release.version


def _may_reveal(principal: Principal, name: str, environment: str) -> bool:
    return (
        not principal.is_anonymous
        and principal.has_scope("secrets:read")
        and principal.covers_server(name)
        and principal.covers_environment(environment)
    )


async def effective_config(request: Request) -> Response:
    """Merged variables, plus secrets: plaintext with ``secrets:read`` (journaled), else masked."""
    name = server_name(request)
    environment = check_environment(request.path_params["env"], field="env")
    version = request.query_params.get("version") or None
    client_id = request.query_params.get("client") or request.headers.get("x-client-id") or None
    reason = request.query_params.get("reason") or None
    if reason is not None and len(reason) > 500:
        raise ValidationFailed("reason must be at most 500 characters", field="reason")
    wants_values = query_bool(request, "reveal", True)
    keyring = keyring_of(request)
    principal = await run(request, lambda _s, p: p)
    reveal = wants_values and _may_reveal(principal, name, environment)

    def work(session: Session, principal: Principal) -> EffectiveConfig:
        require(principal, "read", server=name, environment=environment)
        release = _version_for(session, name, environment, version, client_id)
        if reveal:
            found = config_effective.reveal_config(
                session, keyring, principal, name, release, environment, reason
            )
        else:
            found = config_effective.effective_config(
                session, keyring, name, release, environment, reveal=False
            )
        return EffectiveConfig.of(found)

    return _private(json_response(request, await run(request, work, write=reveal)))
