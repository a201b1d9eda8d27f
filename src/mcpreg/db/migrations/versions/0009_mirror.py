"""mirror: subregistry upstreams, sync runs, mirrored provenance and curation (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:40:00.000000

Upstreams, their sync checkpoints and runs, the entries a sync refused, the provenance
of each mirrored release (``mirrored_release``), and the generic ``lease`` table that
keeps one replica at a time on a piece of background work.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, mcpreg.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        _utc("expires_at"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "upstream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("include", sa.Text(), server_default="", nullable=False),
        sa.Column("exclude", sa.Text(), server_default="", nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=True),
        sa.Column("token_key_id", sa.String(length=32), nullable=True),
        _utc("created_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sync_checkpoint",
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        _utc("watermark", nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        _utc("since", nullable=True),
        _utc("high", nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        _utc("updated_at"),
        sa.ForeignKeyConstraint(["upstream_id"], ["upstream.id"]),
        sa.PrimaryKeyConstraint("upstream_id"),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resumed", sa.Boolean(), nullable=False),
        _utc("since", nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _utc("started_at"),
        _utc("finished_at", nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["upstream_id"], ["upstream.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_run_upstream", "sync_run", ["upstream_id", "id"])
    op.create_table(
        "refused_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _utc("at"),
        sa.ForeignKeyConstraint(["upstream_id"], ["upstream.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["sync_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refused_entry_run", "refused_entry", ["run_id"])
    op.create_table(
        "mirrored_release",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("semver", sa.Boolean(), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        _utc("synced_at"),
        sa.Column("upstream_status", sa.String(length=16), nullable=False),
        sa.Column("upstream_status_message", sa.String(length=500), nullable=True),
        _utc("upstream_updated_at", nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["release.id"]),
        sa.ForeignKeyConstraint(["upstream_id"], ["upstream.id"]),
        sa.PrimaryKeyConstraint("release_id"),
    )
    op.create_index("ix_mirrored_release_upstream", "mirrored_release", ["upstream_id", "server_name"])


def downgrade() -> None:
    op.drop_index("ix_mirrored_release_upstream", table_name="mirrored_release")
    op.drop_table("mirrored_release")
    op.drop_index("ix_refused_entry_run", table_name="refused_entry")
    op.drop_table("refused_entry")
    op.drop_index("ix_sync_run_upstream", table_name="sync_run")
    op.drop_table("sync_run")
    op.drop_table("sync_checkpoint")
    op.drop_table("upstream")
    op.drop_table("lease")
