"""token expiry: an optional ``expires_at`` on API tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:45:00.000000

A token with ``expires_at`` in the past authenticates as nothing (401 ``token_expired``).
Existing tokens keep ``NULL``: they never expire, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("token") as batch:
        batch.add_column(sa.Column("expires_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("token") as batch:
        batch.drop_column("expires_at")
