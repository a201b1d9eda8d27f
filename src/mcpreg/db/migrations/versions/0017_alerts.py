"""alerts: alert rules per environment and their firings (issue 12)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 13:45:00.000000

* ``alert_rule``: a rule per environment and name (kind, numbers, webhook URL, the signing
  secret sealed with the key ring);
* ``alert_firing``: each firing with its numbers and delivery; ``open_key`` and
  ``event_key`` are unique, so two replicas never fire one condition or event twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("environment_id", sa.Integer(), sa.ForeignKey("environment.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("server_name", sa.String(200), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("min_requests", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("environment_id", "name", name="uq_alert_rule"),
    )
    op.create_table(
        "alert_firing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("server_name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("fired_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_key", sa.String(600), nullable=True),
        sa.Column("event_key", sa.String(200), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempt_log", sa.Text(), nullable=False),
        sa.UniqueConstraint("open_key", name="uq_alert_firing_open"),
        sa.UniqueConstraint("event_key", name="uq_alert_firing_event"),
    )
    op.create_index("ix_alert_firing_environment", "alert_firing", ["environment", "id"])
    op.create_index("ix_alert_firing_due", "alert_firing", ["delivery", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_firing_due", table_name="alert_firing")
    op.drop_index("ix_alert_firing_environment", table_name="alert_firing")
    op.drop_table("alert_firing")
    op.drop_table("alert_rule")
