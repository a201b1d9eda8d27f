"""Curation of the mirrored catalogue (``/api/curation``, a server's ``pin``; admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, LeftOut, Omitted, Query
from mcpreg.api.schemas.operations import Operation

Effect = Literal["allow", "deny"]
SERVER = "/api/servers/{namespace}/{server}"


class Rule(Answer):
    pattern: str = Field(description="fnmatch on the whole server name or on its namespace")
    effect: Effect
    upstream: str | None = Field(description="null: every upstream")
    created_at: datetime
    created_by: str


class RuleChange(Rule):
    """A rule set, changed or removed, and what it did at once to what is mirrored."""

    removed: bool | Omitted = LeftOut
    withheld: list[str] = Field(description="mirrored servers no longer admitted: their releases deleted")
    restored: list[str] = Field(description="mirrored servers admitted again: their statuses back")


class RuleBody(Body):
    pattern: str = Field(examples=["io.github.acme/*"])
    effect: Effect
    upstream: str | Omitted = None
    force: bool | Omitted = Field(default=None, description="withhold releases even where they run")


class RuleQuery(Query):
    pattern: str
    upstream: str | None = None
    force: bool = False


class LocalNamespace(Answer):
    namespace: str
    created_at: datetime
    created_by: str
    removed: bool | Omitted = LeftOut


class Pin(Answer):
    server: str
    version: str
    status: str
    created_at: datetime
    created_by: str


class PinBody(Body):
    version: str


class Unpinned(Answer):
    server: str
    pinned: bool
    latest: str | None


class LocalStatus(Answer):
    """A mirrored release's status as an admin set it, kept by every sync."""

    server: str
    version: str
    status: str
    status_message: str | None
    upstream_status: str = Field(description="what the upstream says, recorded by the last sync")
    created_at: datetime
    created_by: str


class Owner(Answer):
    upstream: str
    namespaces: list[str] = Field(description="include patterns; empty: every name")
    exclude: list[str]


class Curation(Answer):
    rules: list[Rule]
    local_namespaces: list[LocalNamespace]
    pins: list[Pin]
    local_statuses: list[LocalStatus]
    owners: list[Owner]


_RULE = ("invalid_curation", "upstream_not_found", "release_in_use", "sync_in_progress", "validation_failed")

OPERATIONS = (
    Operation(
        "GET", "/api/curation", "Everything curated (admin)", "curation", answer=Curation, auth="required"
    ),
    Operation(
        "POST",
        "/api/curation/rules",
        "Allow or deny a name pattern, applied at once to what is mirrored (admin)",
        "curation",
        answer=RuleChange,
        body=RuleBody,
        auth="required",
        codes=(*_RULE, "unknown_field", "no_changes", "conflict"),
    ),
    Operation(
        "DELETE",
        "/api/curation/rules",
        "Remove an allow or deny rule, applied at once (admin)",
        "curation",
        answer=RuleChange,
        query=RuleQuery,
        auth="required",
        codes=(*_RULE, "curation_not_found"),
    ),
    Operation(
        "PUT",
        "/api/curation/local/{namespace}",
        "Mark a namespace local: publishable here, never synced into (admin)",
        "curation",
        answer=LocalNamespace,
        auth="required",
        codes=("invalid_curation", "no_changes", "conflict"),
    ),
    Operation(
        "DELETE",
        "/api/curation/local/{namespace}",
        "A namespace is no longer local (admin)",
        "curation",
        answer=LocalNamespace,
        auth="required",
        codes=("invalid_curation", "curation_not_found"),
    ),
    Operation(
        "PUT",
        f"{SERVER}/pin",
        "Hold the server's latest on one release across syncs (admin)",
        "curation",
        answer=Pin,
        body=PinBody,
        auth="required",
        codes=(
            "validation_failed",
            "unknown_field",
            "version_not_found",
            "invalid_version",
            "release_not_published",
        ),
    ),
    Operation(
        "DELETE",
        f"{SERVER}/pin",
        "Let the server's latest follow its highest active release again (admin)",
        "curation",
        answer=Unpinned,
        auth="required",
        codes=("curation_not_found",),
    ),
)
