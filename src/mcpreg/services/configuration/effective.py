"""Effective configuration: what one release gets in one environment, secrets masked or revealed.

The more specific slot wins: environment, then release, then server; a default declared by
the release's server.json fills a name nothing sets. Secrets are unsealed only for a caller
holding ``secrets:read``, which the journal records (who, why, never what).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.crypto import KeyRing, SecretContext, unseal
from mcpreg.db.config_tables import Secret, Variable
from mcpreg.db.tables import Server
from mcpreg.domain.config_inputs import declared_inputs
from mcpreg.domain.principal import Principal
from mcpreg.errors import SecretDecryptFailed
from mcpreg.services import journal
from mcpreg.services.configuration.slots import (
    Row,
    check_environment,
)
from mcpreg.services.releases import get_release, get_server
from mcpreg.services.tokens import require
from mcpreg.services.views import document_of

MASK = "********"
_PRECEDENCE: dict[str, int] = {"server": 0, "release": 1, "environment": 2}


def _applicable(
    session: Session, model: type[Row], server: Server, version: str, environment: str
) -> dict[str, Row]:
    """Per name, the most specific row that applies to ``version`` in ``environment``."""
    rows = session.exec(
        select(model).where(
            model.server_id == server.id,
            sa.or_(
                model.scope == "server",  # type: ignore[arg-type]
                sa.and_(model.scope == "release", model.version == version),  # type: ignore[arg-type]
                sa.and_(model.scope == "environment", model.environment == environment),  # type: ignore[arg-type]
            ),
        )
    )
    chosen: dict[str, Row] = {}
    for row in rows:
        if row.scope == "environment" and not environment:
            continue
        current = chosen.get(row.name)
        if current is None or _PRECEDENCE[row.scope] > _PRECEDENCE[current.scope]:
            chosen[row.name] = row
    return chosen


def _unsealed(keyring: KeyRing, row: Secret) -> str:
    context = SecretContext(row.server_name, row.scope, row.version, row.environment, row.name)  # type: ignore[arg-type]
    try:
        return unseal(keyring, row.ciphertext, context)
    except SecretDecryptFailed as exc:
        raise SecretDecryptFailed(
            f"secret {row.name!r} ({row.scope} scope) of {row.server_name}: {exc.detail}",
            field=row.name,
            code=exc.code,
        ) from None


@dataclass(frozen=True)
class ConfigValue:
    """A variable's value and the level it came from (``server``, ``release``, ``environment``,
    or ``default``: the release's server.json)."""

    value: str
    source: str


@dataclass(frozen=True)
class ConfigSecret:
    """A secret: its plaintext when revealed, else ``MASK``; its level and sealing key."""

    value: str
    source: str
    key_id: str


@dataclass(frozen=True)
class EffectiveConfig:
    """What one release gets in one environment (None: no environment overrides)."""

    server: str
    version: str
    environment: str | None
    variables: dict[str, ConfigValue]
    secrets: dict[str, ConfigSecret]
    missing: list[str] = field(default_factory=list)  # required inputs with no value and no default


def effective_config(
    session: Session,
    keyring: KeyRing,
    server_name: str,
    version: str,
    environment: str | None,
    *,
    reveal: bool,
) -> EffectiveConfig:
    """The merged configuration of one release in one environment (None: no overrides).

    Secrets are unsealed only when ``reveal``; otherwise their values are masked and
    nothing is decrypted. No permission check here: callers decide who may see what.
    """
    if environment is not None:
        check_environment(environment)
    server = get_server(session, server_name)
    release = get_release(session, server, version)
    env = environment or ""
    variables = _applicable(session, Variable, server, release.version, env)
    secrets = _applicable(session, Secret, server, release.version, env)
    declared = declared_inputs(document_of(release))
    resolved = {name: ConfigValue(row.value, row.scope) for name, row in variables.items()}
    for name, declaration in declared.items():
        if name not in resolved and name not in secrets and declaration.default is not None:
            resolved[name] = ConfigValue(declaration.default, "default")
    sealed = {
        name: ConfigSecret(_unsealed(keyring, row) if reveal else MASK, row.scope, row.key_id)
        for name, row in secrets.items()
    }
    missing = sorted(
        name
        for name, declaration in declared.items()
        if declaration.required and name not in resolved and name not in sealed
    )
    return EffectiveConfig(
        server.name,
        release.version,
        environment,
        dict(sorted(resolved.items())),
        dict(sorted(sealed.items())),
        missing,
    )


def reveal_config(
    session: Session,
    keyring: KeyRing,
    principal: Principal,
    server_name: str,
    version: str,
    environment: str | None,
    reason: str | None,
) -> EffectiveConfig:
    """The effective configuration with secrets in plaintext; needs ``secrets:read``.

    Journals ``config.reveal`` with who, why and which secret names, never values.
    """
    require(principal, "secrets:read", server=server_name, environment=environment)
    config = effective_config(session, keyring, server_name, version, environment, reveal=True)
    journal.record(
        session,
        principal,
        "config.reveal",
        server_name=config.server,
        version=config.version,
        environment=environment,
        after={"secrets": sorted(config.secrets)},
        reason=reason,
    )
    return config
