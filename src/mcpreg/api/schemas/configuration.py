"""Variables, secrets (metadata only) and effective configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, LenientBody, Query
from mcpreg.api.schemas.operations import Header, Operation

Level = Literal["server", "release", "environment"]


class _Slot(Answer):
    name: str
    scope: Level
    version: str | None = Field(description="the release, for the release level")
    environment: str | None = Field(description="the environment, for the environment level")
    revision: int = Field(description="1 when created, then +1 on each change")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class Variable(_Slot):
    value: str


class Secret(_Slot):
    """A secret's metadata: never its value or its length."""

    key_id: str = Field(description="the key that seals it")


class VariableList(Answer):
    variables: list[Variable]


class SecretList(Answer):
    secrets: list[Secret]


class ValueBody(LenientBody):
    value: str = Field(max_length=65536)


class ScopeQuery(Query):
    """One level at a time: none (the server level; every level when listing), a release or an environment."""

    version: str | None = None
    environment: str | None = None


class ConfigValue(Answer):
    value: str
    source: Literal["server", "release", "environment", "default"]


class ConfigSecret(Answer):
    value: str = Field(description="`********` unless revealed")
    source: Level
    key_id: str


class EffectiveConfig(Answer):
    server: str
    version: str
    environment: str | None
    variables: dict[str, ConfigValue]
    secrets: dict[str, ConfigSecret]
    missing: list[str] = Field(description="required inputs with no value at any level and no default")


class ConfigQuery(Query):
    version: str | None = Field(default=None, description="default: what is deployed there")
    client: str | None = Field(default=None, description="route as this client (or X-Client-Id)")
    reason: str | None = Field(default=None, max_length=500, description="recorded with a reveal")
    reveal: bool = Field(default=True, description="false: masks, even with `secrets:read`")


SERVER = "/api/servers/{namespace}/{server}"
_SLOT = (
    "ambiguous_scope",
    "invalid_environment",
    "environment_not_found",
    "environment_denied",
    "version_not_found",
    "invalid_version",
)
_WRITE = (*_SLOT, "invalid_name", "invalid_value", "value_required", "validation_failed")
NO_STORE = {"Cache-Control": "no-store"}


def _kind(
    kind: str, param: str, one: type[Answer], listed: type[Answer], other: str
) -> tuple[Operation, ...]:
    """The four operations on variables, or on secrets: they differ only in the name."""
    path, found = f"{SERVER}/{kind}s", f"{kind}_not_found"
    return (
        Operation(
            "GET",
            path,
            f"The server's {kind}s (every level, or one)",
            "configuration",
            answer=listed,
            query=ScopeQuery,
            auth="required",
            codes=_SLOT,
            response_headers=NO_STORE,
        ),
        Operation(
            "GET",
            f"{path}/{{{param}}}",
            f"One {kind}",
            "configuration",
            answer=one,
            query=ScopeQuery,
            auth="required",
            codes=(*_SLOT, found),
            response_headers=NO_STORE,
        ),
        Operation(
            "PUT",
            f"{path}/{{{param}}}",
            f"Set a {kind} at one level (201 when it creates it, 200 when it replaces it)",
            "configuration",
            answer=one,
            status=201,
            also=(200,),
            body=ValueBody,
            query=ScopeQuery,
            auth="required",
            codes=(*_WRITE, other),
            response_headers=NO_STORE,
        ),
        Operation(
            "DELETE",
            f"{path}/{{{param}}}",
            f"Delete a {kind} at one level",
            "configuration",
            status=204,
            query=ScopeQuery,
            auth="required",
            codes=(*_SLOT, found),
        ),
    )


OPERATIONS = (
    *_kind("variable", "var", Variable, VariableList, "name_is_secret"),
    *_kind("secret", "secret", Secret, SecretList, "name_is_variable"),
    Operation(
        "GET",
        "/api/environments/{env}/servers/{namespace}/{server}/config",
        "The merged configuration of a release in an environment (secrets masked without `secrets:read`)",
        "configuration",
        answer=EffectiveConfig,
        query=ConfigQuery,
        headers=(Header("X-Client-Id", "route as this client, when `client` is not given"),),
        auth="required",
        codes=(
            *_SLOT,
            "invalid_environment_name",
            "server_not_found",
            "namespace_denied",
            "no_deployment",
            "validation_failed",
            "secret_decrypt_failed",
            "unknown_key",
        ),
        response_headers=NO_STORE,
    ),
)
