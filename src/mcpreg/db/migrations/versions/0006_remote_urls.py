"""remote URLs: which release lists which ``remotes[].url``, indexed by its SHA-256

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:20:00.000000

Publishing refuses a remote URL that another server's published, not deleted release
lists (``remote_url_taken``). Finding that by reading every stored document cost about
half a second per publish at 100,000 releases; ``remote_url`` answers it through
``ix_remote_url_hash`` (a hash, since a URL may be longer than a PostgreSQL B-tree entry).
Existing releases are backfilled from their documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    remote_url = op.create_table(
        "remote_url",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("version_key", mcpreg.db.types.SortKey, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_remote_url_hash", "remote_url", ["url_hash"])
    connection = op.get_bind()
    release = sa.table(
        "release",
        sa.column("id", sa.Integer()),
        sa.column("server_name", sa.String()),
        sa.column("version_key", sa.String()),
        sa.column("document", sa.Text()),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(release.c.id, release.c.server_name, release.c.version_key, release.c.document)
            .where(release.c.id > last, release.c.document.contains('"remotes"'))
            .order_by(release.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        found = [entry for row in rows for entry in _entries(row)]
        if found:
            connection.execute(sa.insert(remote_url), found)


def _entries(row: Any) -> list[dict[str, str]]:
    try:
        remotes = json.loads(row.document).get("remotes")
    except (ValueError, AttributeError):
        return []
    if not isinstance(remotes, list):
        return []
    urls = {r["url"] for r in remotes if isinstance(r, dict) and isinstance(r.get("url"), str)}
    return [
        {
            "url_hash": hashlib.sha256(url.encode()).hexdigest(),
            "url": url,
            "server_name": row.server_name,
            "version_key": row.version_key,
        }
        for url in sorted(urls)
    ]


def downgrade() -> None:
    op.drop_index("ix_remote_url_hash", table_name="remote_url")
    op.drop_table("remote_url")
