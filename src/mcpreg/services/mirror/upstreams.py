"""Declared upstreams: create, read, change, remove; the bearer token sealed like a secret.

Every act needs the ``admin`` scope and is journaled. The token is sealed with the key
ring (``mcpreg.crypto.codec``) under a context naming the upstream, so a sealed token
copied to another upstream's row fails to open; no read shows it, only whether one is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing, SecretContext, key_id_of, rewrap, seal, unseal
from mcpreg.db.mirror_tables import MirroredRelease, RefusedEntry, SyncCheckpoint, SyncRun, Upstream
from mcpreg.db.types import utcnow
from mcpreg.domain.mirror import Coverage, check_pattern, parse_interval, split_patterns
from mcpreg.domain.principal import Principal
from mcpreg.errors import Conflict, NotFound, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.tokens import require

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
MAX_TOKEN = 4096
_FIELDS = frozenset({"name", "url", "namespaces", "exclude", "interval", "token"})


@dataclass(frozen=True)
class UpstreamInput:
    """What a create or a change gives; a ``None`` field is left as it is (or defaulted)."""

    url: str | None = None
    namespaces: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    interval_seconds: int | None = None
    token: str | None = None  # "" removes the token


def coverage(upstream: Upstream) -> Coverage:
    return Coverage(split_patterns(upstream.include), split_patterns(upstream.exclude))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationFailed(
            "an upstream name is 1-64 characters of a-z, 0-9 and '-', starting with a letter",
            field="name",
            code="invalid_upstream",
        )
    return name


def _check_url(url: object) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or not isinstance(url, str)
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or len(url) > 2000
    ):
        raise ValidationFailed(
            "url is the http(s) base of an official /v0.1 API, e.g. https://registry.example/v0.1",
            field="url",
            code="invalid_upstream",
        )
    return url.rstrip("/")


def _check_patterns(value: object, field: str) -> tuple[str, ...]:
    items = split_patterns(value) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(p, str) for p in items):
        raise ValidationFailed(f"{field} is a list of name patterns", field=field, code="invalid_upstream")
    for pattern in items:
        why = check_pattern(pattern)
        if why is not None:
            raise ValidationFailed(f"{pattern!r}: {why}", field=field, code="invalid_upstream")
    return tuple(items)


def _check_interval(value: object) -> int:
    seconds = parse_interval(str(value)) if isinstance(value, (str, int)) and value is not True else None
    if seconds is None:
        raise ValidationFailed(
            "interval is a duration of 10 s to 7 days: 90s, 10m, 1h, 1d, or seconds",
            field="interval",
            code="invalid_upstream",
        )
    return seconds


def _check_token(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_TOKEN or any(c in value for c in "\r\n\0"):
        raise ValidationFailed(
            f"token is a string of at most {MAX_TOKEN} characters on one line",
            field="token",
            code="invalid_upstream",
        )
    return value.strip()


def parse_input(body: dict[str, Any], *, creating: bool) -> tuple[str | None, UpstreamInput]:
    """A create or change body (``name``, ``url``, ``namespaces``, ``exclude``, ``interval``,
    ``token``) checked field by field."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", field=unknown[0], code="unknown_field")
    name = check_name(body.get("name")) if creating else None
    if not creating and "name" in body:
        raise ValidationFailed("an upstream is never renamed", field="name", code="invalid_upstream")
    if creating and "url" not in body:
        raise ValidationFailed("url is required", field="url", code="invalid_upstream")
    return name, UpstreamInput(
        url=_check_url(body["url"]) if "url" in body else None,
        namespaces=_check_patterns(body["namespaces"], "namespaces") if "namespaces" in body else None,
        exclude=_check_patterns(body["exclude"], "exclude") if "exclude" in body else None,
        interval_seconds=_check_interval(body["interval"]) if "interval" in body else None,
        token=_check_token(body["token"]) if body.get("token") is not None else None,
    )


def _context(name: str) -> SecretContext:
    return SecretContext(server=f"upstream:{name}", scope="server", version="", environment="", name="token")


def token_of(keyring: KeyRing, upstream: Upstream) -> str | None:
    """The upstream's bearer token in clear, for the request to it only."""
    if not upstream.token_sealed:
        return None
    return unseal(keyring, upstream.token_sealed, _context(upstream.name))


def find(session: Session, name: str) -> Upstream | None:
    return session.exec(select(Upstream).where(Upstream.name == name)).first()


def get(session: Session, name: str) -> Upstream:
    upstream = find(session, name)
    if upstream is None:
        raise NotFound(f"no upstream named {name!r}", field="name", code="upstream_not_found")
    return upstream


def all_upstreams(session: Session) -> list[Upstream]:
    return list(session.exec(select(Upstream).order_by(col(Upstream.name))))


def _apply(keyring: KeyRing, upstream: Upstream, given: UpstreamInput) -> None:
    if given.url is not None:
        upstream.base_url = given.url
    if given.namespaces is not None:
        upstream.include = "\n".join(given.namespaces)
    if given.exclude is not None:
        upstream.exclude = "\n".join(given.exclude)
    if given.interval_seconds is not None:
        upstream.interval_seconds = given.interval_seconds
    if given.token == "":
        upstream.token_sealed, upstream.token_key_id = None, None
    elif given.token is not None:
        upstream.token_sealed = seal(keyring, given.token, _context(upstream.name))
        upstream.token_key_id = key_id_of(upstream.token_sealed)


DEFAULT_INTERVAL = 600


def create(
    session: Session, keyring: KeyRing, principal: Principal, name: str, given: UpstreamInput
) -> Upstream:
    require(principal, "admin")
    if find(session, name) is not None:
        raise Conflict(f"an upstream named {name!r} exists", field="name", code="upstream_exists")
    assert given.url is not None, "parse_input requires a url on create"
    upstream = Upstream(
        name=name,
        base_url=given.url,
        interval_seconds=given.interval_seconds or DEFAULT_INTERVAL,
        created_by=principal.name,
    )
    _apply(keyring, upstream, given)
    session.add(upstream)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(f"an upstream named {name!r} exists", field="name", code="upstream_exists") from None
    journal.record(session, principal, "upstream.create", after=UpstreamInfo.of(upstream))
    return upstream


def change(
    session: Session, keyring: KeyRing, principal: Principal, name: str, given: UpstreamInput
) -> Upstream:
    require(principal, "admin")
    upstream = get(session, name)
    before = UpstreamInfo.of(upstream)
    _apply(keyring, upstream, given)
    upstream.updated_at = utcnow()
    session.add(upstream)
    journal.record(session, principal, "upstream.change", before=before, after=UpstreamInfo.of(upstream))
    return upstream


def remove(session: Session, principal: Principal, name: str) -> None:
    """Forget an upstream: its runs, refusals and checkpoint. The releases it brought stay
    (rows are never removed) and become local; their provenance rows go."""
    require(principal, "admin")
    upstream = get(session, name)
    before = UpstreamInfo.of(upstream)
    for table in (MirroredRelease, RefusedEntry, SyncCheckpoint, SyncRun):
        session.execute(sa.delete(table).where(col(table.upstream_id) == upstream.id))
    session.delete(upstream)
    journal.record(session, principal, "upstream.remove", before=before)


@dataclass(frozen=True)
class UpstreamInfo:
    """An upstream as shown and journalled: everything but the token, which shows as set or not."""

    name: str
    url: str
    namespaces: list[str]
    exclude: list[str]
    interval_seconds: int
    token: bool
    created_at: datetime
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, upstream: Upstream) -> UpstreamInfo:
        return cls(
            name=upstream.name,
            url=upstream.base_url,
            namespaces=list(split_patterns(upstream.include)),
            exclude=list(split_patterns(upstream.exclude)),
            interval_seconds=upstream.interval_seconds,
            token=upstream.token_sealed is not None,
            created_at=upstream.created_at,
            created_by=upstream.created_by,
            updated_at=upstream.updated_at,
        )


def reseal_tokens(session: Session, keyring: KeyRing) -> int:
    """Move every upstream token sealed under an older key to the primary key (the data key
    is rewrapped, the token never opened); part of ``mcpreg secrets rotate``. Returns how many."""
    moved = 0
    stale = select(Upstream).where(
        col(Upstream.token_sealed).is_not(None), col(Upstream.token_key_id) != keyring.primary_id
    )
    for upstream in session.exec(stale):
        assert upstream.token_sealed is not None
        upstream.token_sealed = rewrap(keyring, upstream.token_sealed, _context(upstream.name))
        upstream.token_key_id = key_id_of(upstream.token_sealed)
        session.add(upstream)
        moved += 1
    return moved
