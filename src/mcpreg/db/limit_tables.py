"""Rate limits of the gateway (``domain.rate_limits``).

* ``rate_limit``: one row per environment default (``server_name`` is the empty string)
  and per server override in an environment. Each names the bucket of the server in that
  environment (``rate``/``burst``) and the bucket of each client within it
  (``client_rate``/``client_burst``); a NULL pair is no limit of that kind.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow

DEFAULT = ""  # the server_name of an environment's default


class RateLimit(SQLModel, table=True):
    """An environment's default limit, or one server's limit there."""

    __tablename__ = "rate_limit"
    __table_args__ = (sa.UniqueConstraint("environment_id", "server_name", name="uq_rate_limit"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    rate: float | None = Field(default=None)
    burst: int | None = Field(default=None)
    client_rate: float | None = Field(default=None)
    client_burst: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
