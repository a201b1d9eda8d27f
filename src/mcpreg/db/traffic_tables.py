"""Gateway traffic aggregates: what each replica's gateway proxied, one row per interval and key.

Every ``MCPREG_TRAFFIC_FLUSH_INTERVAL`` seconds each replica writes what its gateway counted
since its previous write (``gateway.metrics.GatewayMetrics.drain``): one row per (server,
environment, version, track, MCP method, outcome) that saw requests, with the request count,
the summed seconds and the latency histogram (per-bucket counts over
``domain.traffic.LATENCY_BUCKETS`` and the open bucket, comma-separated). ``/traffic`` sums
the rows of every replica whose interval ended inside the window asked about. Rows older than
``domain.traffic.MAX_WINDOW_SECONDS`` are deleted by the flusher.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcpreg.db.types import UTCDateTime


class TrafficAggregate(SQLModel, table=True):
    """One replica's requests of one key in one interval."""

    __tablename__ = "traffic_aggregate"
    __table_args__ = (
        sa.Index("ix_traffic_aggregate_target", "environment", "server_name", "interval_end"),
        sa.Index("ix_traffic_aggregate_end", "interval_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    replica: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    interval_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    interval_end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    server_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    environment: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    track: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    method: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    outcome: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    requests: int = Field(nullable=False)
    seconds_sum: float = Field(nullable=False)
    buckets: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
