"""vanished: releases an upstream stopped listing (issue 14, reconciliation)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 13:30:00.000000

A full sync of an upstream is also a listing pass: each page marks the mirrored releases it
lists (``mirrored_release.listed_pass``, the run id that began the pass, kept in
``sync_checkpoint.full_pass`` across a resume); a pass read to its last page marks the
releases of that upstream it did not list as deleted here (``mirrored_release.vanished_at``)
and counts them in ``sync_run.vanished``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_checkpoint") as batch:
        batch.add_column(sa.Column("full_pass", sa.Integer(), nullable=True))
    with op.batch_alter_table("sync_run") as batch:
        batch.add_column(sa.Column("vanished", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("mirrored_release") as batch:
        batch.add_column(sa.Column("listed_pass", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("vanished_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mirrored_release") as batch:
        batch.drop_column("vanished_at")
        batch.drop_column("listed_pass")
    with op.batch_alter_table("sync_run") as batch:
        batch.drop_column("vanished")
    with op.batch_alter_table("sync_checkpoint") as batch:
        batch.drop_column("full_pass")
