"""Tables of the web console: its server-side sign-in sessions.

The browser holds only a random session id in a cookie; the row keeps that id's SHA-256
(never the id itself), the token the visitor signed in with (by row id: the token is never
stored, not even hashed, a second time), the session's CSRF token and its expiry.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class ConsoleSession(SQLModel, table=True):
    """One signed-in browser: dies at ``expires_at``, at sign-out, or with its token."""

    __tablename__ = "console_session"
    __table_args__ = (sa.Index("ix_console_session_expires_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    token_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("token.id", ondelete="CASCADE"), nullable=False)
    )
    csrf: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
