"""curation: allow/deny rules, local namespaces, local status overrides and pins (issue 14)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:45:00.000000

What an admin decides about the mirrored catalogue, kept apart from what a sync writes
(``mcpreg.db.curation_tables``), so that no sync undoes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _utc(name: str) -> sa.Column[object]:
    return sa.Column(name, mcpreg.db.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "curation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("effect", sa.String(length=8), nullable=False),
        _utc("created_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("upstream", "pattern", name="uq_curation_rule"),
    )
    op.create_table(
        "local_namespace",
        sa.Column("namespace", sa.String(length=200), nullable=False),
        _utc("created_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("namespace"),
    )
    op.create_table(
        "status_override",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.String(length=500), nullable=True),
        _utc("created_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["release.id"]),
        sa.PrimaryKeyConstraint("release_id"),
    )
    op.create_table(
        "pin",
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        _utc("created_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.ForeignKeyConstraint(["release_id"], ["release.id"]),
        sa.PrimaryKeyConstraint("server_id"),
    )


def downgrade() -> None:
    op.drop_table("pin")
    op.drop_table("status_override")
    op.drop_table("local_namespace")
    op.drop_table("curation_rule")
