"""One real ``mcpreg serve`` per test module and backend, driven by real ``mcpreg`` subprocesses.

The server runs over a fresh SQLite file or a fresh PostgreSQL database, migrated by
``serve`` itself on start; its admin token comes from ``mcpreg tokens create`` on the
same database. Other tokens are created in process (they cost no subprocess).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS
from tests.support.served import Fleet, Served


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    servers = Fleet(tmp_path_factory.mktemp("cli"))
    yield servers
    servers.close()


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, fleet: Fleet) -> Served:
    """This module's server on the test's backend (PostgreSQL tests skip when it is absent)."""
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgresql" else None
    return fleet.get(request.param, admin)
