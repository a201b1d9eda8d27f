"""Tables of the release registry: servers, releases, channels, tokens, the journal.

Table classes stay inside ``db/`` and ``services/``; handlers return public models.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import SortKey, UTCDateTime, utcnow


class Server(SQLModel, table=True):
    __tablename__ = "server"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Release(SQLModel, table=True):
    """One version of a server. Rows are never removed, so version numbers are never reused."""

    __tablename__ = "release"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "version_key", name="uq_release_server_precedence"),
        sa.Index("ix_release_latest", "is_latest", "server_name"),
        sa.Index("ix_release_updated", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    version_key: str = Field(sa_column=sa.Column(SortKey, nullable=False))
    is_prerelease: bool = Field(default=False, nullable=False)
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status_message: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    is_latest: bool = Field(default=False, nullable=False)
    description: str = Field(
        default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default="")
    )
    document: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_by: str = Field(
        default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default="")
    )


# Lists walk releases by server name, newest version first: the index holds that order, so
# a page is a range scan that stops after ``limit`` rows (no sort of what follows the cursor).
sa.Index("ix_release_listing", Release.server_name, sa.desc(Release.version_key))


class RemoteUrl(SQLModel, table=True):
    """A remote URL one release lists (``remotes[].url``), found by its SHA-256.

    A remote endpoint belongs to one server name: publishing a URL that a published, not
    deleted release of another server lists is refused (``services.publish_checks``). The
    release is named by (server name, precedence key), as the bulk import writes it.
    """

    __tablename__ = "remote_url"
    __table_args__ = (sa.Index("ix_remote_url_hash", "url_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    url_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    url: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    version_key: str = Field(sa_column=sa.Column(SortKey, nullable=False))


class Channel(SQLModel, table=True):
    """A named pointer (dist-tag) to one release of a server; ``latest`` is derived, not stored."""

    __tablename__ = "channel"

    server_id: int = Field(foreign_key="server.id", primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    release_id: int = Field(foreign_key="release.id", nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(
        default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default="")
    )


class Token(SQLModel, table=True):
    """An API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    scopes: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    namespaces: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    environments: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(
        default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default="")
    )
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: never expires


class JournalEntry(SQLModel, table=True):
    """Append-only record of every change: who, when, what, what it replaced, why."""

    __tablename__ = "journal"
    __table_args__ = (sa.Index("ix_journal_target", "server_name", "environment"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    server_name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    version: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    environment: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    before: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    after: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class Meta(SQLModel, table=True):
    """Small key/value facts about this database (sample data loaded, change counter)."""

    __tablename__ = "meta"

    key: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
