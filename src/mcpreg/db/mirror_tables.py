"""Tables of the subregistry (issue 14): upstreams, their sync checkpoints and runs,
the entries a sync refused, and the provenance of every mirrored release.

A mirrored release is an ordinary ``release`` row (deployable, routable, listed); what
makes it mirrored is its ``mirrored_release`` row: which upstream it came from, the URL
it was read at, when, and the upstream's own status (kept apart from ``release.status``,
which a local curation may hold at another value). Upstream versions that are not SemVer
are stored as releases too, flagged ``semver = false`` here, with a precedence key below
every SemVer key (``mcpreg.domain.mirror_versions``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class Upstream(SQLModel, table=True):
    """A registry that speaks the official ``/v0.1`` read API, declared by an admin.

    ``include`` and ``exclude`` hold namespace patterns one per line (``io.github.*``);
    the bearer token, when there is one, is stored only sealed (``token_sealed``, a
    ``mcpreg.crypto.codec`` token whose key id ``token_key_id`` repeats).
    """

    __tablename__ = "upstream"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    base_url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    include: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    exclude: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    interval_seconds: int = Field(nullable=False)
    token_sealed: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    token_key_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SyncCheckpoint(SQLModel, table=True):
    """Where the sync of one upstream stands.

    ``watermark`` is the highest upstream ``updatedAt`` of the last completed sync (the
    next one asks ``updated_since`` a little before it). While a sync runs, ``cursor`` is
    the upstream cursor of its next page, ``since`` the ``updated_since`` it pages with and
    ``high`` the highest ``updatedAt`` applied so far, each written in the transaction that
    applied the page, so an interrupted sync resumes at the page after the last one applied.
    """

    __tablename__ = "sync_checkpoint"

    upstream_id: int = Field(foreign_key="upstream.id", primary_key=True)
    watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cursor: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    high: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_id: int | None = Field(default=None)
    # The run that began the full listing pass in progress (a resumed run continues it);
    # only a pass read to its last page decides which releases vanished upstream.
    full_pass: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SyncRun(SQLModel, table=True):
    """One sync of one upstream: what it read and what it did, however it ended."""

    __tablename__ = "sync_run"
    __table_args__ = (sa.Index("ix_sync_run_upstream", "upstream_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    upstream_id: int = Field(foreign_key="upstream.id", nullable=False)
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # full | incremental
    state: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # running | ok | failed
    resumed: bool = Field(default=False, nullable=False)
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pages: int = Field(default=0, nullable=False)
    added: int = Field(default=0, nullable=False)
    updated: int = Field(default=0, nullable=False)
    unchanged: int = Field(default=0, nullable=False)
    refused: int = Field(default=0, nullable=False)
    skipped: int = Field(default=0, nullable=False)  # outside the include/exclude patterns or curation
    vanished: int = Field(default=0, nullable=False)  # no longer listed upstream: marked deleted here
    seconds: float = Field(default=0.0, nullable=False)
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class RefusedEntry(SQLModel, table=True):
    """An entry an upstream serves that failed mcpreg's validation: recorded, never stored."""

    __tablename__ = "refused_entry"
    __table_args__ = (sa.Index("ix_refused_entry_run", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    upstream_id: int = Field(foreign_key="upstream.id", nullable=False)
    run_id: int = Field(foreign_key="sync_run.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class MirroredRelease(SQLModel, table=True):
    """The provenance of one mirrored release and the upstream's own view of it."""

    __tablename__ = "mirrored_release"
    __table_args__ = (sa.Index("ix_mirrored_release_upstream", "upstream_id", "server_name"),)

    release_id: int = Field(foreign_key="release.id", primary_key=True)
    upstream_id: int = Field(foreign_key="upstream.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    semver: bool = Field(default=True, nullable=False)
    source_url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    synced_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    upstream_status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    upstream_status_message: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    upstream_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    listed_pass: int | None = Field(default=None)  # the last full pass that listed it (its run id)
    vanished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # not listed since then
