"""Alerts (``domain.alerts``, ``services.alerts``).

* ``alert_rule``: one row per environment and rule name: the rule's kind and numbers, the
  webhook URL, and the signing secret sealed with the key ring (never shown, never logged).
* ``alert_firing``: one row per firing: the rule (by id and name: a removed rule's firings
  stay), where and what it fired on, the numbers, when it fired and resolved, and its
  delivery (status, attempts, each attempt's outcome as JSON). ``open_key`` is set while a
  condition holds and is unique, so two replicas never fire the same condition twice;
  ``event_key`` (unique) does the same for a one-off event (an automatic rollback).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class AlertRule(SQLModel, table=True):
    __tablename__ = "alert_rule"
    __table_args__ = (sa.UniqueConstraint("environment_id", "name", name="uq_alert_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    server_name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    url: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    secret: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # sealed
    threshold: float | None = Field(default=None)
    window_seconds: int | None = Field(default=None)
    min_requests: int | None = Field(default=None)
    state: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    timeout_seconds: float = Field(nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class AlertFiring(SQLModel, table=True):
    __tablename__ = "alert_firing"
    __table_args__ = (
        sa.Index("ix_alert_firing_environment", "environment", "id"),
        sa.Index("ix_alert_firing_due", "delivery", "next_attempt_at"),
        sa.UniqueConstraint("open_key", name="uq_alert_firing_open"),
        sa.UniqueConstraint("event_key", name="uq_alert_firing_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(nullable=False)
    rule_name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    environment: str = Field(sa_column=sa.Column(sa.String(63), nullable=False))
    server_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    summary: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    numbers: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    fired_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    open_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(600)))
    event_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    delivery: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempt_log: str = Field(default="[]", sa_column=sa.Column(sa.Text, nullable=False))
