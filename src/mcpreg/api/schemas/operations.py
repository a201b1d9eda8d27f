"""How one ``/api`` route is described for the OpenAPI document: an ``Operation``.

An operation names its route by method and path, exactly as the route table writes them
(``{id:int}`` included), and says what it reads and answers: the ``body`` model, the
``query`` model, the ``answer`` model and status, and the error ``codes`` it can return
beyond the ones every route of its kind can (``COMMON``, ``BODY``, ``WRITE``, ``SERVER``).
Each code's status comes from ``mcpreg.errors.CATALOGUE``, so the document lists, per
status, exactly which codes that status can carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from mcpreg.api.schemas.base import Query

Auth = Literal["optional", "required"]
"""``optional``: anyone (a token that is sent must be valid); ``required``: a bearer token."""

COMMON = (
    "unauthenticated",
    "token_expired",
    "not_found",
    "nul_character",
    "database_unavailable",
    "internal_error",
)
"""What any route can answer: a bad token, a path no route matches (``/deployments/-1``), a NUL
in the path or query, an outage, a bug."""
BODY = (
    "empty_body",
    "malformed_json",
    "invalid_body",
    "unsupported_media_type",
    "payload_too_large",
    "too_deep",
)
"""What any route that reads a JSON body can answer before looking at it."""
OPTIONAL_BODY = tuple(code for code in BODY if code != "empty_body")
WRITE = ("permission_denied",)
"""What any route that needs a token with some scope can answer."""
SERVER = ("server_not_found", "namespace_denied")
"""What a route under ``/api/servers/{namespace}/{server}`` can answer."""


@dataclass(frozen=True)
class Header:
    name: str
    description: str


@dataclass(frozen=True)
class Operation:
    """One method on one path of the route table, as the OpenAPI document shows it."""

    method: str
    path: str
    summary: str
    tag: str
    answer: type[BaseModel] | None = None
    """The success body; None: no body (``status`` 204)."""
    status: int = 200
    also: tuple[int, ...] = ()
    """Other success statuses with the same body (a PUT that creates answers 201, else 200)."""
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[Query] | None = None
    headers: tuple[Header, ...] = ()
    auth: Auth = "optional"
    codes: tuple[str, ...] = ()
    cacheable: bool = False
    """Sends an ``ETag`` and answers ``If-None-Match`` with 304."""
    description: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def error_codes(self) -> tuple[str, ...]:
        """Every code this operation can answer, in the order given, without repeats."""
        codes = [*COMMON, *self.codes]
        if self.body is not None:
            codes += BODY if self.body_required else OPTIONAL_BODY
            if self.body.model_config.get("extra") == "forbid":  # a ``Body``: unknown keys refused
                codes += ("unknown_field",)
        if self.query is not None:  # a parameter outside its type or bounds
            codes += ("validation_failed",)
        if self.auth == "required":
            codes += WRITE
        if self.path.startswith("/api/servers/{namespace}/{server}"):
            codes += SERVER
        return tuple(dict.fromkeys(codes))
