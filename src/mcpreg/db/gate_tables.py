"""Promotion gates and their runs (``domain.gates``, ``services.gates``).

* ``gate``: one row per gate. ``deployment_id`` 0 is an environment's own (default) gate;
  any other value is a gate the deploy or promote request with that id asked for. The gate
  itself is JSON (``domain.gates.gate_to_dict``); a webhook's signing secret is sealed with
  the key ring under a context naming the row, never stored or returned in clear.
* ``gate_run``: one row per attempt of one gate at one point of one deployment (the
  ``deploy`` point, or the rollout step about to be entered). Unique on (deployment, point,
  step, gate, attempt): a runner claims an attempt by inserting it as ``running``, so with
  several replicas each attempt runs exactly once; the result is written when it is done.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class StoredGate(SQLModel, table=True):
    __tablename__ = "gate"
    __table_args__ = (sa.UniqueConstraint("environment_id", "deployment_id", "name", name="uq_gate_name"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    deployment_id: int = Field(default=0, nullable=False)  # 0: the environment's default gate
    uid: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))  # the secret is sealed for it
    name: str = Field(sa_column=sa.Column(sa.String(63), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    spec: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON, no secret
    secret_sealed: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    secret_key_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    updated_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class GateRun(SQLModel, table=True):
    __tablename__ = "gate_run"
    __table_args__ = (
        sa.UniqueConstraint("deployment_id", "point", "step", "gate_name", "attempt", name="uq_gate_run"),
        sa.Index("ix_gate_run_target", "environment_id", "server_name", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    deployment_id: int = Field(nullable=False)
    rollout_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    point: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    step: int = Field(nullable=False)  # the step about to be entered (0 for ``deploy``)
    gate_name: str = Field(sa_column=sa.Column(sa.String(63), nullable=False))
    gate_kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    attempt: int = Field(nullable=False)
    result: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # running, pass, fail, error
    http_status: int | None = Field(default=None)
    failure: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    failing: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # JSON list of case names
    elapsed_ms: float | None = Field(default=None)
    delivery_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    testset_run_id: int | None = Field(default=None)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # after a failure
