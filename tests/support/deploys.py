"""Shared set-up for the deployment tests: principals, a published server, refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlmodel import Session, select

from mcpreg.db.deploy_tables import DeploymentEvent
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import RegistryError
from mcpreg.services import releases
from mcpreg.services.environments import ensure_default_environments

T = TypeVar("T")

NAME = "io.github.acme/weather"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
ALICE = Principal(name="alice", scopes=frozenset({"deploy"}), token_id=1)
BOB = Principal(name="bob", scopes=frozenset({"deploy"}), token_id=2)
PAT = Principal(name="pat", scopes=frozenset({"publish"}), token_id=3)
VERSIONS = ("1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def doc(version: str, name: str = NAME) -> dict[str, Any]:
    return {"name": name, "description": "Weather forecasts", "version": version}


def prepare(session: Session, versions: tuple[str, ...] = VERSIONS, name: str = NAME) -> Session:
    """Default environments and active releases of ``name``; committed."""
    ensure_default_environments(session)
    for version in versions:
        releases.create_release(session, SYSTEM, doc(version, name))
    session.commit()
    return session


def request(version: str, **body: Any) -> Any:
    return parse_deploy({"server": body.pop("server", NAME), "version": version, **body})


def ok(session: Session, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one service call as one committed unit of work."""
    result = call(session, *args, **kwargs)
    session.commit()
    return result


def refused(
    session: Session, code: str, call: Callable[..., Any], *args: Any, **kwargs: Any
) -> RegistryError:
    """Assert the call is refused with ``code``; roll its transaction back."""
    with pytest.raises(RegistryError) as caught:
        call(session, *args, **kwargs)
    session.rollback()
    assert caught.value.code == code, repr(caught.value)
    return caught.value


def events(session: Session, environment: str | None = None) -> list[DeploymentEvent]:
    query = select(DeploymentEvent).order_by(DeploymentEvent.id)  # type: ignore[arg-type]
    if environment is not None:
        query = query.where(DeploymentEvent.environment == environment)
    return list(session.exec(query))


def actions(session: Session, environment: str | None = None) -> list[str]:
    return [e.action for e in events(session, environment)]
