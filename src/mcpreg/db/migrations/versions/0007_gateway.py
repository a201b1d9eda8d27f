"""gateway: the MCP gateway (issue 11): environments whose gateway is public, sealed-session support

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:40:00.000000

Reserved for this feature; filled in by the change that brings it.
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
