"""Canary analysis verdicts (``domain.analysis``, ``services.analysis``).

* ``analysis_run``: one row per rollout, step, check and interval: the verdict and the
  numbers it was decided on. Unique on (rollout, step, check, interval), so with several
  replicas each interval is judged exactly once (a second insert fails and is dropped).

The analyses themselves are JSON columns: ``environment.analysis`` (the default),
``deployment.analysis`` (asked for) and ``deployment_state.rollout_analysis`` (in force).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class AnalysisRun(SQLModel, table=True):
    __tablename__ = "analysis_run"
    __table_args__ = (
        sa.UniqueConstraint("rollout_id", "step", "check_index", "interval_index", name="uq_analysis_run"),
        sa.Index("ix_analysis_run_rollout", "rollout_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    state_id: int = Field(foreign_key="deployment_state.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    environment: str = Field(sa_column=sa.Column(sa.String(63), nullable=False))
    rollout_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    step: int = Field(nullable=False)
    check_index: int = Field(nullable=False)
    interval_index: int = Field(nullable=False)
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ended_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    verdict: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    numbers: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
