"""Imports every table module so the metadata is complete (Alembic, tests)."""

from mcpreg.db import (
    alert_tables,  # noqa: F401
    analysis_tables,  # noqa: F401
    config_tables,  # noqa: F401
    console_tables,  # noqa: F401
    curation_tables,  # noqa: F401
    deploy_tables,  # noqa: F401
    gate_tables,  # noqa: F401
    gateway_tables,  # noqa: F401
    health_tables,  # noqa: F401
    lease_tables,  # noqa: F401
    limit_tables,  # noqa: F401
    mirror_tables,  # noqa: F401
    tables,  # noqa: F401
    testset_tables,  # noqa: F401
    traffic_tables,  # noqa: F401
)
