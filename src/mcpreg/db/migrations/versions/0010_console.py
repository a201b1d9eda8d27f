"""console: web console sessions (issue 13)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:40:00.000000

``console_session``: one row per signed-in browser, keyed by the SHA-256 of the id in its
cookie, pointing at the token it signed in with, carrying its CSRF token and expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("id_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("token.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_console_session_expires_at", "console_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_console_session_expires_at", table_name="console_session")
    op.drop_table("console_session")
