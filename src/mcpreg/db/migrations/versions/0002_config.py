"""config: variables, sealed secrets and the secret rotation checkpoint

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:40:30.879150
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _slot_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "variable",
        *_slot_columns(),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_id", "scope", "version", "environment", "name", name="uq_variable_slot"),
    )
    op.create_table(
        "secret",
        *_slot_columns(),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["server_id"], ["server.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_id", "scope", "version", "environment", "name", name="uq_secret_slot"),
    )
    with op.batch_alter_table("secret", schema=None) as batch_op:
        batch_op.create_index("ix_secret_key_id", ["key_id", "id"], unique=False)

    op.create_table(
        "secret_rotation",
        sa.Column("target_key_id", sa.String(length=32), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("rewrapped", sa.Integer(), nullable=False),
        sa.Column("raced", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("started_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("target_key_id"),
    )


def downgrade() -> None:
    op.drop_table("secret_rotation")
    with op.batch_alter_table("secret", schema=None) as batch_op:
        batch_op.drop_index("ix_secret_key_id")
    op.drop_table("secret")
    op.drop_table("variable")
