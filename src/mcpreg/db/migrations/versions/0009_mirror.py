"""mirror: subregistry upstreams, sync runs, mirrored provenance and curation (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:40:00.000000

Reserved for this feature; filled in by the change that brings it.
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
