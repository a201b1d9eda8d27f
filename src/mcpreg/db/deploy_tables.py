"""Tables of environments and deployments.

* ``environment``: the promotion order and each environment's flags.
* ``deployment_state``: one row per (server, environment), the single source of what
  runs there: the stable release, at most one canary with its weight, and the rollout
  that moves it. Every change locks this row first (``SELECT ... FOR UPDATE`` on
  PostgreSQL; SQLite serialises writers) and bumps ``version``.
* ``deployment``: deploy and promote requests, including those waiting for approval
  or for their ``scheduled_at``.
* ``deployment_event``: the append-only history. ``seq`` numbers the events of one
  (server, environment) without gaps: it is the state row's ``version`` after the event.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class Environment(SQLModel, table=True):
    __tablename__ = "environment"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    position: int = Field(nullable=False)
    protected: bool = Field(default=False, nullable=False)
    requires_approval: bool = Field(default=False, nullable=False)
    allow_prereleases: bool = Field(default=False, nullable=False)
    # The gateway of this environment takes anonymous clients (no ``connect`` token needed).
    gateway_public: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    # The canary analysis staged and canary rollouts here get by default (JSON, ``domain.analysis``).
    analysis: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    description: str = Field(
        default="", sa_column=sa.Column(sa.String(500), nullable=False, server_default="")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DeploymentState(SQLModel, table=True):
    """What runs of one server in one environment, and the rollout moving it."""

    __tablename__ = "deployment_state"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "environment_id", name="uq_deployment_state_target"),
        sa.Index("ix_deployment_state_due", "rollout_status", "next_step_at"),
        sa.Index("ix_deployment_state_env", "environment_id", "server_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    stable_release_id: int | None = Field(default=None, foreign_key="release.id")
    stable_version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    canary_release_id: int | None = Field(default=None, foreign_key="release.id")
    canary_version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    canary_weight: float = Field(default=0.0, nullable=False)
    rollout_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    rollout_strategy: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    rollout_plan: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    rollout_analysis: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # in force (JSON)
    rollout_status: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    rollout_index: int = Field(default=0, nullable=False)
    step_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_step_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_remaining: float | None = Field(default=None)
    last_known_good: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    deployed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deployed_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    version: int = Field(default=0, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Deployment(SQLModel, table=True):
    """A deploy or promote request: applied at once, or waiting for approval or its time."""

    __tablename__ = "deployment"
    __table_args__ = (
        sa.Index("ix_deployment_env_state", "environment_id", "state"),
        sa.Index("ix_deployment_due", "state", "scheduled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    environment: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    release_id: int = Field(foreign_key="release.id", nullable=False)
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    strategy: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    plan: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    analysis: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # asked for (JSON)
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    from_environment: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    forced: bool = Field(default=False, nullable=False)
    state: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    requested_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    approved_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rollout_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    failure: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class DeploymentEvent(SQLModel, table=True):
    """One entry of the append-only deployment history."""

    __tablename__ = "deployment_event"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "environment_id", "seq", name="uq_deployment_event_seq"),
        sa.Index("ix_deployment_event_env", "environment_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    environment: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    seq: int = Field(nullable=False)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    replaced: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    stable_version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    canary_version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    canary_weight: float = Field(default=0.0, nullable=False)
    strategy: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    rollout_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    deployment_id: int | None = Field(default=None)
    from_environment: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    forced: bool = Field(default=False, nullable=False)
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
