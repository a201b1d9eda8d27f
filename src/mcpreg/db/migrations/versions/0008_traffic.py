"""traffic: per-replica, per-interval gateway traffic aggregates (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:40:00.000000

Reserved for this feature; filled in by the change that brings it.
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
