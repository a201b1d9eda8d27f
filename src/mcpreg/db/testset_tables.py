"""Test sets of servers and their runs (``domain.testsets``, ``services.testsets``).

* ``testset``: one named set of cases per server (unique on server and name); the parsed
  document is stored as JSON, with a ``revision`` that counts its changes.
* ``testset_run``: one row per run of a set against one version in one environment: who
  or what started it (a person's token name, or a gate), the overall result, and each
  case's result as JSON (expected, what came back cut to a few KB, elapsed ms). Runs are
  history: they stay when their set is changed or removed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class TestSetRow(SQLModel, table=True):
    __tablename__ = "testset"
    __table_args__ = (sa.UniqueConstraint("server_id", "name", name="uq_testset_name"),)
    __test__ = False  # not a pytest test class

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    document: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    revision: int = Field(default=1, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class TestSetRun(SQLModel, table=True):
    __tablename__ = "testset_run"
    __table_args__ = (sa.Index("ix_testset_run_set", "server_id", "testset", "id"),)
    __test__ = False  # not a pytest test class

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    testset: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    testset_revision: int = Field(nullable=False)
    environment: str = Field(sa_column=sa.Column(sa.String(63), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    track: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    started_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    trigger: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    result: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    detail: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    total: int = Field(nullable=False)
    failed: int = Field(nullable=False)
    failing: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON names; listings skip ``cases``
    cases: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    finished_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    elapsed_ms: float = Field(nullable=False)
