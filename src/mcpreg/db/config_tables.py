"""Tables of release configuration: plain variables, sealed secrets, the rotation checkpoint.

A variable or secret lives in one *slot*: a server, a scope and a name, where the scope
is the whole server, one release (``version``), or one environment (``environment``).
``version`` and ``environment`` are "" when the scope does not use them, so the slot is
a plain unique key on every backend (no NULLs in the constraint).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class ConfigSlot(SQLModel):
    """Columns shared by variables and secrets: where the value lives and who set it."""

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_type=sa.String(200), nullable=False)
    scope: str = Field(sa_type=sa.String(16), nullable=False)
    version: str = Field(default="", sa_type=sa.String(255), nullable=False)
    environment: str = Field(default="", sa_type=sa.String(64), nullable=False)
    name: str = Field(sa_type=sa.String(128), nullable=False)
    revision: int = Field(default=1, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_type=sa.String(200), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(sa_type=sa.String(200), nullable=False)


class Variable(ConfigSlot, table=True):
    """A plain configuration value (``LOG_LEVEL=info``)."""

    __tablename__ = "variable"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "scope", "version", "environment", "name", name="uq_variable_slot"),
    )

    value: str = Field(sa_type=sa.Text, nullable=False)


class Secret(ConfigSlot, table=True):
    """A secret value, stored only as a sealed token (``mcpreg.crypto.codec``).

    ``key_id`` repeats the key id written in the token's clear header, so rotation
    finds the rows still sealed under an older key with an index scan.
    """

    __tablename__ = "secret"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "scope", "version", "environment", "name", name="uq_secret_slot"),
        sa.Index("ix_secret_key_id", "key_id", "id"),
    )

    ciphertext: str = Field(sa_type=sa.Text, nullable=False)
    key_id: str = Field(sa_type=sa.String(32), nullable=False)


class SecretRotation(SQLModel, table=True):
    """The checkpoint of a rotation to one primary key, so an interrupted run resumes."""

    __tablename__ = "secret_rotation"

    target_key_id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    last_id: int = Field(default=0, nullable=False)
    rewrapped: int = Field(default=0, nullable=False)
    raced: int = Field(default=0, nullable=False)
    failed: int = Field(default=0, nullable=False)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_by: str = Field(sa_type=sa.String(200), nullable=False)
