"""``mcpreg doctor``: is this deployment's configuration fit to go live?

Each check answers ``ok``, ``warn`` or ``fail`` with one line of detail; any ``fail``
makes the command exit non-zero. Nothing here prints a secret: stored secrets are
unsealed in memory to prove they are readable, then dropped.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing, SecretContext, unseal
from mcpreg.crypto.codec import SecretScope
from mcpreg.db import migrate
from mcpreg.db.config_tables import Secret
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.db.tables import Release
from mcpreg.errors import RegistryError
from mcpreg.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
Resolver = Callable[[str], bool]


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def resolves(host: str) -> bool:
    """Whether ``host`` has an address (DNS, /etc/hosts, or a literal address)."""
    try:
        return bool(socket.getaddrinfo(host, None))
    except (socket.gaierror, UnicodeError):
        return False


def settings_checks(settings: Settings) -> Iterator[Check]:
    if settings.dev:
        yield Check("mode", WARN, "development mode (MCPREG_DEV) is on: not for production")
    else:
        yield Check("mode", OK, "production mode")
    if settings.sample_data and not settings.dev:
        yield Check(
            "sample data", FAIL, "MCPREG_SAMPLE_DATA is on: set it to 0 so the sample catalogue never loads"
        )
    else:
        yield Check("sample data", OK, "off" if not settings.sample_data else "on (development mode)")
    if settings.access_log:
        yield Check("access log", OK, "uvicorn's access log is on (MCPREG_ACCESS_LOG)")
    else:
        yield Check("access log", WARN, "MCPREG_ACCESS_LOG=0: make sure the proxy in front logs requests")
    if settings.forwarded_allow_ips:
        yield Check("proxy headers", OK, f"X-Forwarded-* trusted from {settings.forwarded_allow_ips}")
    elif settings.dev:
        yield Check(
            "proxy headers", WARN, "MCPREG_FORWARDED_ALLOW_IPS unset: client addresses are the proxy's"
        )
    else:
        yield Check(
            "proxy headers",
            FAIL,
            "MCPREG_FORWARDED_ALLOW_IPS unset: behind a proxy, set it to the proxy's address "
            "(or * where only the proxy can reach mcpreg)",
        )


def database_checks(engine: sa.Engine) -> tuple[list[Check], bool]:
    """Reachable, then migrated; the bool says whether the schema can be read."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        revision = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc).splitlines()[0]
        return [Check("database", FAIL, f"{engine.url.render_as_string()}: {reason}")], False
    checks = [Check("database", OK, f"{engine.dialect.name} at {engine.url.render_as_string()} answers")]
    if not migrate.serves(revision):
        checks.append(
            Check(
                "migrations",
                FAIL,
                f"schema at {revision or 'nothing'}, this build needs {migrate.HEAD}: run `mcpreg migrate`",
            )
        )
        return checks, False
    checks.append(Check("migrations", OK, f"schema at {revision}"))
    return checks, True


def secret_checks(session: Session, keyring: KeyRing) -> Iterator[Check]:
    failed: list[str] = []
    rows = session.exec(select(Secret).order_by(col(Secret.id))).all()
    for row in rows:
        scope = cast(SecretScope, row.scope)  # the codec refuses any other value
        context = SecretContext(row.server_name, scope, row.version, row.environment, row.name)
        try:
            unseal(keyring, row.ciphertext, context)
        except RegistryError as exc:
            failed.append(f"#{row.id} {row.server_name} {row.scope} {row.name} ({exc.code})")
    if failed:
        shown = "; ".join(failed[:5]) + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
        yield Check("stored secrets", FAIL, f"{len(failed)} of {len(rows)} cannot be read: {shown}")
    else:
        yield Check("stored secrets", OK, f"all {len(rows)} readable with this key ring")


def _running_releases(session: Session) -> list[Release]:
    ids: set[int] = set()
    for state in session.exec(select(DeploymentState)).all():
        ids.update(i for i in (state.stable_release_id, state.canary_release_id) if i is not None)
    if not ids:
        return []
    return list(session.exec(select(Release).where(col(Release.id).in_(ids))).all())


def upstream_checks(session: Session, resolver: Resolver = resolves) -> Iterator[Check]:
    """Every remote host of a release that is stable or canary somewhere has an address."""
    hosts: dict[str, set[str]] = {}
    templated = 0
    for release in _running_releases(session):
        document = orjson.loads(release.document)
        for remote in document.get("remotes") or []:
            url = str(remote.get("url", ""))
            host = urlsplit(url).hostname or ""
            if "{" in host or not host:
                templated += 1  # filled from configuration per environment: checked when routed
                continue
            hosts.setdefault(host, set()).add(f"{release.server_name}@{release.version}")
    if not hosts:
        yield Check(
            "gateway upstreams",
            OK,
            "no deployed release has a remote"
            + (f" with a fixed host ({templated} templated)" if templated else ""),
        )
        return
    missing = sorted(host for host in hosts if not resolver(host))
    if missing:
        shown = ", ".join(f"{host} ({', '.join(sorted(hosts[host]))})" for host in missing)
        yield Check(
            "gateway upstreams", FAIL, f"{len(missing)} of {len(hosts)} hosts do not resolve: {shown}"
        )
    else:
        yield Check("gateway upstreams", OK, f"all {len(hosts)} remote hosts of deployed releases resolve")
