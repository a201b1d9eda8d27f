"""The console's catalogue listing on both backends: one row per server by name, paged by
cursor, searched by name or description, filtered by status, drafts never listed; each row
with its newest release of that status, latest, channels and where it runs."""

from __future__ import annotations

import sqlalchemy as sa

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.catalogue import Placement, Query, listing
from tests.conftest import TEST_KEYS
from tests.console.scenario import OTHER, WEATHER, build


def catalogue(engine: sa.Engine) -> None:
    build(engine, KeyRing.parse(TEST_KEYS))


def test_servers_come_by_name_a_page_at_a_time(engine: sa.Engine) -> None:
    catalogue(engine)
    with unit_of_work(engine) as session:
        first, cursor = listing(session, Query(), size=1)
        assert [e.name for e in first] == [WEATHER] and cursor == WEATHER
        second, after = listing(session, Query(cursor=cursor), size=1)
        assert [e.name for e in second] == [OTHER] and after is None


def test_a_row_has_the_newest_release_latest_channels_and_where_it_runs(engine: sa.Engine) -> None:
    catalogue(engine)
    with unit_of_work(engine) as session:
        (weather,), _ = listing(session, Query(search="hourly"))  # the description of 1.1.0
    assert weather.name == WEATHER
    assert weather.version == "2.0.0-rc.1"  # the newest active release; the draft 2.0.0 is not listed
    assert weather.latest == "1.1.0" and ("latest", "1.1.0") in weather.channels
    assert weather.running == [Placement("production", "1.0.0", None, 0.0)]


def test_the_status_filter_lists_only_servers_with_a_release_of_that_status(engine: sa.Engine) -> None:
    catalogue(engine)
    with unit_of_work(engine, write=True) as session:
        releases.set_status(session, SYSTEM, OTHER, "0.1.0", "deprecated", message="use weather")
    with unit_of_work(engine) as session:
        deprecated, _ = listing(session, Query(status="deprecated"))
        active, _ = listing(session, Query())
    assert [e.name for e in deprecated] == [OTHER] and deprecated[0].version == "0.1.0"
    assert [e.name for e in active] == [WEATHER]
