"""Tables of the subregistry's curation (issue 14): what an admin decided locally about
the mirrored catalogue, kept apart from what a sync writes so that no sync undoes it.

* ``curation_rule``: allow and deny patterns over server names, for one upstream or
  (``upstream = ''``) for every upstream.
* ``local_namespace``: namespaces an admin marked local: publishing into them is allowed
  even where an upstream's patterns cover them, and no sync brings entries into them.
* ``status_override``: a local status of a mirrored release (deprecated with a message,
  deleted, or active again) that the sync keeps whatever the upstream says.
* ``pin``: a server whose ``latest`` is held on one release.

Local channels need no table of their own: they are ordinary ``channel`` rows, and a
sync changes releases in place, never removes them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow

GLOBAL = ""  # ``curation_rule.upstream`` of a rule that applies to every upstream


class CurationRule(SQLModel, table=True):
    """An allow or deny pattern (``fnmatch``, on the whole server name) for one upstream or all."""

    __tablename__ = "curation_rule"
    __table_args__ = (sa.UniqueConstraint("upstream", "pattern", name="uq_curation_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    upstream: str = Field(default=GLOBAL, sa_column=sa.Column(sa.String(64), nullable=False))
    pattern: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    effect: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))  # allow | deny
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class LocalNamespace(SQLModel, table=True):
    """A namespace (the part of a server name before the slash) that belongs to this registry."""

    __tablename__ = "local_namespace"

    namespace: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class StatusOverride(SQLModel, table=True):
    """The local status of one mirrored release; the sync keeps it (``release.status`` holds it)."""

    __tablename__ = "status_override"

    release_id: int = Field(foreign_key="release.id", primary_key=True)
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status_message: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class Pin(SQLModel, table=True):
    """A server whose ``latest`` (and the listing's latest flag) is held on one release."""

    __tablename__ = "pin"

    server_id: int = Field(foreign_key="server.id", primary_key=True)
    release_id: int = Field(foreign_key="release.id", nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
