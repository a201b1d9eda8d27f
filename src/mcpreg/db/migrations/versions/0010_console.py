"""console: web console sessions (issue 13)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:40:00.000000

Reserved for this feature; filled in by the change that brings it.
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
