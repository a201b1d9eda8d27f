"""Imports every table module so the metadata is complete (Alembic, tests)."""

from mcpreg.db import tables  # noqa: F401
