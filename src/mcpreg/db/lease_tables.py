"""A named lease in the database: who holds it and until when (``mcpreg.services.leases``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime


class Lease(SQLModel, table=True):
    """One replica's claim on a piece of background work, valid until ``expires_at``."""

    __tablename__ = "lease"

    name: str = Field(sa_column=sa.Column(sa.String(128), primary_key=True))
    holder: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
