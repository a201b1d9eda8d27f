"""The prober's view of deployed versions (``domain.health``).

* ``version_health``: one row per (environment, server, version) the prober has checked:
  its state, the consecutive failures or successes behind it, when it was last checked and
  when its state last changed, and the last failure's reason (no secret: the reason is an
  error class and message from the MCP client, never a header value).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class VersionHealth(SQLModel, table=True):
    __tablename__ = "version_health"
    __table_args__ = (
        sa.UniqueConstraint("environment_id", "server_name", "version", name="uq_version_health"),
    )

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    state: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    failures: int = Field(default=0, nullable=False)
    successes: int = Field(default=0, nullable=False)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
