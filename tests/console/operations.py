"""Set-up shared by the operations screens' tests (board, rollout panel, dialogs, point in time).

A published server with four releases (``tests.support.deploys``), deployed through the same
services the console and the API call, as a principal named ``alice``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.services.deploy import deployments, rollouts
from tests.support.deploys import ALICE, NAME, prepare, request

OTHER = "io.github.other/tool"
PANEL = f"/console/environments/production/servers/{NAME}/rollout"


def published(engine: sa.Engine, *names: str) -> None:
    """The default environments and releases 1.0.0, 1.1.0, 1.2.0, 2.0.0-rc.1 of each server."""
    with Session(engine) as session:
        for name in names or (NAME,):
            prepare(session, name=name)


def deployed(engine: sa.Engine, env: str, version: str, *, name: str = NAME, **body: Any) -> None:
    """Deploy as ``alice`` (``strategy``, ``weight``, ``steps`` as the API takes them)."""
    with Session(engine) as session:
        deployments.deploy(session, ALICE, env, request(version, server=name, **body))
        session.commit()


def moved(engine: sa.Engine, env: str, action: str, *, name: str = NAME) -> None:
    """A rollout action as ``alice``: promote, pause, resume or abort."""
    with Session(engine) as session:
        rollouts.transition(session, ALICE, name, env, action)
        session.commit()


def canary_in_production(engine: sa.Engine) -> None:
    """production: stable 1.0.0, canary 1.1.0 at 10% (a fixed canary, waiting for a promote)."""
    published(engine)
    deployed(engine, "production", "1.0.0")
    deployed(engine, "production", "1.1.0", strategy="canary", weight=10)
