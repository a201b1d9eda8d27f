"""Imports every table module so the metadata is complete (Alembic, tests)."""

from mcpreg.db import (
    config_tables,  # noqa: F401
    deploy_tables,  # noqa: F401
    lease_tables,  # noqa: F401
    mirror_tables,  # noqa: F401
    tables,  # noqa: F401
)
