"""Tables of the MCP gateway.

* ``gateway_session_move``: one row per legacy gateway session that was moved off its
  version (answered 404 "session expired" because its client is no longer routed there),
  attributed to the deployment-history entry in force when the move was seen (``seq``:
  the state row's ``version`` then, which is that entry's ``seq``). ``session_digest`` is
  a SHA-256 of the sealed session id, never the id itself; one row per session, however
  many replicas and requests see it expire.

The environment's ``gateway_public`` flag is a column of ``environment`` (``deploy_tables``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime, utcnow


class GatewaySessionMove(SQLModel, table=True):
    """A legacy session moved off its version by a change of routing."""

    __tablename__ = "gateway_session_move"
    __table_args__ = (
        sa.UniqueConstraint("server_id", "environment_id", "session_digest", name="uq_gateway_session_move"),
        sa.Index("ix_gateway_session_move_seq", "server_id", "environment_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", nullable=False)
    environment_id: int = Field(foreign_key="environment.id", nullable=False)
    seq: int = Field(nullable=False)
    from_version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    session_digest: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
