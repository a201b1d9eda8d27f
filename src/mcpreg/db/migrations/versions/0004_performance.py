"""performance: a listing index in list order, no index on release status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 06:40:00.000000

* ``ix_release_listing`` becomes ``(server_name, version_key DESC)``: the order every list
  is served in, so a page is an index range scan that stops after ``limit`` rows instead of
  sorting every release after the cursor.
* ``ix_release_status`` goes: a status has three or four values, so no query is helped by
  it, and SQLite (which has no statistics unless ANALYZE runs) preferred it over
  ``uq_release_server_precedence`` for ``server_id = ? AND status = 'active'``, reading
  every active release of the catalogue on each publish.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_release_listing", table_name="release")
    op.create_index("ix_release_listing", "release", ["server_name", sa.text("version_key DESC")])
    op.drop_index("ix_release_status", table_name="release")


def downgrade() -> None:
    op.create_index("ix_release_status", "release", ["status"])
    op.drop_index("ix_release_listing", table_name="release")
    op.create_index("ix_release_listing", "release", ["server_name", "version_key"])
