"""Environments: the promotion order, their flags, and who may deploy to them.

Positions are dense (0, 1, 2, ...): creating an environment at a position, or moving
one, shifts the others. Settings are not versioned; they hold for every release
deployed there from the moment they change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Environment
from mcpreg.db.tables import Release
from mcpreg.db.types import utcnow
from mcpreg.domain.analysis import parse_analysis
from mcpreg.domain.environments import check_environment_name
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import BadRequest, Conflict, NotFound, PermissionDenied, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.releases import DRAFT
from mcpreg.services.tokens import require

_JSON_FLAGS = {
    "protected": "protected",
    "requiresApproval": "requires_approval",
    "allowPrereleases": "allow_prereleases",
    "gatewayPublic": "gateway_public",
}
_FIELDS = {"name", "position", "description", "analysis", *_JSON_FLAGS}

DEFAULTS: tuple[dict[str, Any], ...] = (
    {"name": "dev", "allow_prereleases": True},
    {"name": "staging", "allow_prereleases": True},
    {"name": "production", "protected": True},
)


@dataclass(frozen=True)
class EnvironmentInfo:
    """An environment's settings as shown and journalled (``analysis`` parsed, or None)."""

    name: str
    position: int
    protected: bool
    requires_approval: bool
    allow_prereleases: bool
    gateway_public: bool
    analysis: dict[str, Any] | None
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, env: Environment) -> EnvironmentInfo:
        return cls(
            name=env.name,
            position=env.position,
            protected=env.protected,
            requires_approval=env.requires_approval,
            allow_prereleases=env.allow_prereleases,
            gateway_public=env.gateway_public,
            analysis=orjson.loads(env.analysis) if env.analysis else None,
            description=env.description,
            created_at=env.created_at,
            updated_at=env.updated_at,
        )


def ensure_default_environments(session: Session) -> None:
    """Create ``dev`` -> ``staging`` -> ``production`` when no environment exists yet.

    Safe when several replicas start at once: a lost race on the unique name is ignored.
    """
    if session.exec(select(Environment.id).limit(1)).first() is not None:
        return
    created = []
    for position, defaults in enumerate(DEFAULTS):
        try:
            with session.begin_nested():
                session.add(Environment(position=position, **defaults))
                session.flush()
            created.append(defaults["name"])
        except sa.exc.IntegrityError:
            continue
    if created:
        journal.record(session, SYSTEM, "environment.seed", after={"environments": created})


def list_environments(session: Session) -> list[Environment]:
    return list(session.exec(select(Environment).order_by(col(Environment.position), col(Environment.name))))


def find_environment(session: Session, name: str) -> Environment | None:
    return session.exec(select(Environment).where(Environment.name == name)).first()


def get_environment(session: Session, name: str, *, field: str = "environment") -> Environment:
    env = find_environment(session, name)
    if env is None:
        raise NotFound(f"no environment named {name!r}", field=field, code="environment_not_found")
    return env


def next_environment(session: Session, env: Environment) -> Environment | None:
    """The environment after ``env`` in the promotion order."""
    return session.exec(
        select(Environment)
        .where(col(Environment.position) > env.position)
        .order_by(col(Environment.position))
    ).first()


def between(session: Session, low: Environment, high: Environment) -> list[Environment]:
    """The environments strictly between two positions: those a promotion would skip."""
    return list(
        session.exec(
            select(Environment)
            .where(Environment.position > low.position, Environment.position < high.position)
            .order_by(col(Environment.position))
        )
    )


def require_deploy(principal: Principal, env: Environment, server: str) -> None:
    """Refuse unless the principal may change what runs of ``server`` in ``env``.

    Anywhere, the token must cover the server's namespace and the environment. A
    protected environment needs the ``deploy`` scope itself; elsewhere ``publish`` will do.
    """
    if env.protected:
        if not principal.is_anonymous and not principal.has_scope("deploy"):
            raise PermissionDenied(
                f"{env.name!r} is protected: deploying there needs a token with the 'deploy' scope",
                field="scope",
                code="environment_protected",
            )
        require(principal, "deploy", server=server, environment=env.name)
        return
    scope = "deploy" if principal.has_scope("deploy") else "publish"
    require(principal, scope, server=server, environment=env.name)


def check_deployable(release: Release, env: Environment, *, allow_deprecated: bool = False) -> None:
    """Refuse a release ``env`` may not run: drafts, deleted (and deprecated) ones, pre-releases."""
    label = f"{release.server_name}@{release.version}"
    if release.status == DRAFT:
        raise Conflict(f"{label} is a draft; publish it first", field="version", code="release_is_draft")
    if release.status == "deleted":
        raise Conflict(f"{label} is deleted", field="version", code="release_deleted")
    if release.status != "active" and not (allow_deprecated and release.status == "deprecated"):
        raise Conflict(
            f"{label} is {release.status}; only active releases can be deployed",
            field="version",
            code="release_not_active",
        )
    if release.is_prerelease and not env.allow_prereleases:
        raise Conflict(
            f"{label} is a pre-release and {env.name!r} does not accept pre-releases",
            field="version",
            code="prerelease_not_allowed",
        )


def _check_fields(body: dict[str, Any]) -> None:
    for key in body:
        if key not in _FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=key, code="unknown_field")
    for key in _JSON_FLAGS:
        if key in body and not isinstance(body[key], bool):
            raise ValidationFailed(f"{key} must be true or false", field=key)
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        raise ValidationFailed("description is a string of at most 500 characters", field="description")
    _analysis(body)


def _analysis(body: dict[str, Any]) -> str | None:
    """The body's default analysis as stored (JSON), checked; None when absent or null."""
    value = body.get("analysis")
    return None if value is None else orjson.dumps(parse_analysis(value).to_dict()).decode()


def _check_position(value: object, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= count:
        raise ValidationFailed(f"position must be an integer from 0 to {count}", field="position")
    return value


def _locked_all(session: Session) -> list[Environment]:
    """Every environment, locked, in order, including any created while this waited.

    The first read waits for every other writer of the list; it cannot see a row such a
    writer inserted, which PostgreSQL's READ COMMITTED shows to the second read (two
    creations of one name would otherwise meet at the unique index: a 500).
    """
    query = select(Environment).order_by(col(Environment.position)).with_for_update()
    session.exec(query).all()
    return list(session.exec(query.execution_options(populate_existing=True)))


def _renumber(session: Session, ordered: list[Environment]) -> None:
    for position, env in enumerate(ordered):
        if env.position != position:
            env.position = position
            env.updated_at = utcnow()
            session.add(env)


def create_environment(session: Session, principal: Principal, body: dict[str, Any]) -> Environment:
    require(principal, "admin")
    _check_fields(body)
    name = check_environment_name(body.get("name"), field="name")
    ordered = _locked_all(session)
    if any(env.name == name for env in ordered):
        raise Conflict(f"environment {name!r} already exists", field="name", code="environment_exists")
    position = _check_position(body.get("position", len(ordered)), len(ordered))
    env = Environment(
        name=name,
        position=position,
        description=body.get("description", ""),
        analysis=_analysis(body),
        **{column: body.get(key, False) for key, column in _JSON_FLAGS.items()},
    )
    ordered.insert(position, env)
    _renumber(session, ordered)
    session.add(env)
    session.flush()
    journal.record(session, principal, "environment.create", environment=name, after=EnvironmentInfo.of(env))
    return env


def update_environment(
    session: Session, principal: Principal, name: str, body: dict[str, Any]
) -> Environment:
    """Change flags, description or position (the name is permanent: history refers to it)."""
    require(principal, "admin")
    _check_fields(body)
    if "name" in body and body["name"] != name:
        raise ValidationFailed("an environment cannot be renamed", field="name", code="immutable_name")
    ordered = _locked_all(session)
    env = next((e for e in ordered if e.name == name), None)
    if env is None:
        raise NotFound(f"no environment named {name!r}", field="environment", code="environment_not_found")
    before = EnvironmentInfo.of(env)
    if "position" in body:
        position = _check_position(body["position"], len(ordered) - 1)
        ordered.remove(env)
        ordered.insert(position, env)
        _renumber(session, ordered)
    for key, column in _JSON_FLAGS.items():
        if key in body:
            setattr(env, column, body[key])
    if "description" in body:
        env.description = body["description"]
    if "analysis" in body:
        env.analysis = _analysis(body)
    if dataclasses.replace(EnvironmentInfo.of(env), updated_at=before.updated_at) == before:
        raise BadRequest("No changes to apply", code="no_changes")
    env.updated_at = utcnow()
    session.add(env)
    after = EnvironmentInfo.of(env)
    journal.record(session, principal, "environment.update", environment=name, before=before, after=after)
    return env
