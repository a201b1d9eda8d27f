"""Warming: every server's ``latest`` answer is in the cache before anyone asks for it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.fastpath import warming
from mcpreg.api.fastpath.cache import ENTRY_OVERHEAD, Entry, ResponseCache
from mcpreg.api.fastpath.warming import Warmer, latest_key
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.journal import current_generations
from mcpreg.settings import Settings
from tests.conftest import publish, server_doc
from tests.support.live import LiveServer
from tests.support.waiting import wait_until

NAMES = [f"io.github.acme/s{i}" for i in range(4)]


def detail(name: str) -> str:
    return f"/v0.1/servers/{name}/versions/latest"


def seed(engine: sa.Engine, name: str, version: str = "1.0.0") -> None:
    """A release written straight to the database, as another replica or the CLI would."""
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, server_doc(name=name, version=version))


def settle(live: LiveServer) -> Warmer:
    """Wait (bounded) until the watcher has seen every committed change and the warmer is idle."""
    app = live.app
    rt = runtime(app)
    warmer = rt.warmer
    assert warmer is not None
    cache = rt.cache

    def settled() -> bool:
        with unit_of_work(rt.engine) as session:
            generations = current_generations(session)
        seen = (cache.generation, cache.catalogue_generation) == generations
        return seen and warmer.idle and warmer.rounds > 0

    wait_until(settled, 10, "the watcher and the warmer settling")
    return warmer


READS_RELEASE = re.compile(r"\b(?:from|join)\s+release\b", re.IGNORECASE)


@contextmanager
def release_queries(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement that reads the release table while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The table, not a column such as deployment_state.stable_release_id, which the
        # background loops (alerts, the prober) read at any time.
        if READS_RELEASE.search(statement):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def pinned_entry(live: LiveServer, name: str) -> Entry | None:
    return runtime(live.app).cache.get(latest_key(name))


def test_after_start_every_latest_answer_is_served_from_the_cache_without_a_query(
    settings: Settings, engine: sa.Engine
) -> None:
    for name in NAMES:
        seed(engine, name)
    with LiveServer(create_app(settings, engine)) as live, httpx.Client(base_url=live.url) as anon:
        settle(live)
        with release_queries(engine) as queries:
            answers = [anon.get(detail(name)) for name in NAMES]
        assert [a.status_code for a in answers] == [200] * len(NAMES)
        assert [a.json()["server"]["name"] for a in answers] == NAMES
        assert queries == []
        with release_queries(engine) as control:  # the counter does see a read that misses
            assert anon.get("/v0.1/servers", params={"search": "not cached"}).status_code == 200
        assert control


def test_a_publish_renders_again_only_the_server_it_touched(
    api: httpx.Client, anon: httpx.Client, live: LiveServer, engine: sa.Engine
) -> None:
    for name in NAMES:
        publish(api, server_doc(name=name, version="1.0.0"))
    settle(live)
    untouched = {name: pinned_entry(live, name) for name in NAMES[1:]}
    assert all(untouched.values())
    publish(api, server_doc(name=NAMES[0], version="1.1.0"))
    assert anon.get(detail(NAMES[0])).json()["server"]["version"] == "1.1.0"  # read your write
    settle(live)
    with release_queries(engine) as queries:
        assert anon.get(detail(NAMES[0])).json()["server"]["version"] == "1.1.0"
    assert queries == []
    assert {name: pinned_entry(live, name) for name in NAMES[1:]} == untouched
    assert all(pinned_entry(live, name) is entry for name, entry in untouched.items())


def test_a_change_made_elsewhere_is_checked_and_only_that_server_rendered_again(
    anon: httpx.Client, live: LiveServer, engine: sa.Engine
) -> None:
    for name in NAMES:
        seed(engine, name)
    settle(live)
    untouched = {name: pinned_entry(live, name) for name in NAMES[1:]}
    seed(engine, NAMES[0], "2.0.0")  # not through this replica: only the watcher sees it
    settle(live)
    with release_queries(engine) as queries:
        assert anon.get(detail(NAMES[0])).json()["server"]["version"] == "2.0.0"
    assert queries == []
    assert all(pinned_entry(live, name) is entry for name, entry in untouched.items())


def test_a_deprecation_made_elsewhere_moves_the_warm_latest_back(
    anon: httpx.Client, live: LiveServer, engine: sa.Engine
) -> None:
    seed(engine, NAMES[0], "1.0.0")
    seed(engine, NAMES[0], "1.1.0")
    settle(live)
    assert anon.get(detail(NAMES[0])).json()["server"]["version"] == "1.1.0"
    with unit_of_work(engine, write=True) as session:
        releases.set_status(session, SYSTEM, NAMES[0], "1.1.0", "deprecated", "use 1.0.0")
    settle(live)
    with release_queries(engine) as queries:
        assert anon.get(detail(NAMES[0])).json()["server"]["version"] == "1.0.0"
    assert queries == []


def test_the_byte_budget_bounds_warming_most_recently_changed_first(
    settings: Settings, engine: sa.Engine
) -> None:
    for name in NAMES:
        seed(engine, name)
    with LiveServer(create_app(settings, engine)) as probe, httpx.Client(base_url=probe.url) as anon:
        one = len(anon.get(detail(NAMES[0])).content) + ENTRY_OVERHEAD + len(latest_key(NAMES[0]))
    small = dataclasses.replace(settings, cache_bytes=2 * one + one // 2)
    with LiveServer(create_app(small, engine)) as live:
        settle(live)
        cache = runtime(live.app).cache
        assert [cache.pinned(name) for name in NAMES] == [False, False, True, True]
        assert cache.bytes <= cache.max_bytes


def test_a_pinned_answer_outlives_other_servers_changes_and_goes_last() -> None:
    cache = ResponseCache(max_bytes=3 * (100 + ENTRY_OVERHEAD + 3))

    def put(key: str, server: str | None = None, *, evict_pinned: bool = True) -> bool:
        return cache.put(key, cache.entry(b"x" * 100), cache.mark(), server=server, evict_pinned=evict_pinned)

    put("a/1", "a")
    put("b/1", "b")
    put("p/1")
    cache.invalidate(servers=["a"])
    assert [cache.get(k) is not None for k in ("a/1", "b/1", "p/1")] == [False, True, False]
    for key in ("p/1", "p/2", "p/3"):  # unpinned answers push out each other, not b's
        put(key)
    assert cache.get("b/1") is not None and cache.bytes <= cache.max_bytes
    assert put("c/1", "c", evict_pinned=False) and put("d/1", "d", evict_pinned=False)
    assert not put("e/1", "e", evict_pinned=False)  # warming stops where the budget is full
    assert [cache.pinned(s) for s in "bcde"] == [True, True, True, False]
    assert put("e/1", "e")  # a change's own server may push out the least recently used
    assert [cache.pinned(s) for s in "bcde"] == [False, True, True, True]


def test_a_pinned_render_started_before_a_change_to_its_server_is_refused() -> None:
    cache = ResponseCache()
    started = cache.mark()
    cache.invalidate(servers=["other"])
    assert cache.put("mine", cache.entry(b"{}"), started, server="mine")  # another server changed
    started = cache.mark()
    cache.invalidate(servers=["mine"])
    assert not cache.put("mine", cache.entry(b"{}"), started, server="mine")
    started = cache.mark()
    assert cache.put("mine", cache.entry(b"{}"), started, server="mine")
    cache.listeners.append(lambda change: None)
    cache.observe(1, 1)  # another replica changed something: which servers is not known yet
    assert not cache.put("mine", cache.entry(b"[]"), started, server="mine")
    assert cache.get("mine") == cache.entry(b"{}")  # kept until a listener has checked it


def test_a_write_that_follows_on_marks_its_generations_seen_and_one_that_skips_does_not() -> None:
    cache = ResponseCache()
    cache.observe(3, 2)
    cache.wrote((4, 3), ["a"])  # the only catalogue change since (3, 2)
    assert cache.catalogue_generation == 3
    cache.wrote((6, 5), ["b"])  # generation 4 was another replica's: the watcher must check it
    assert cache.catalogue_generation == 3 and cache.generation == 6


def test_a_failing_round_is_logged_and_drops_the_pinned_answers(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warming, "RETRY_AFTER", 0)
    cache = ResponseCache()
    cache.put("key", cache.entry(b"{}"), cache.mark(), server="s")
    warmer = Warmer(sa.create_engine("sqlite://"), cache)  # no tables: every read fails

    async def one_round() -> None:
        task = asyncio.create_task(warmer.run())
        while warmer.rounds == 0:  # bounded by the wait_for below
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR, logger="mcpreg.warming"):
        asyncio.run(asyncio.wait_for(one_round(), 10))
    assert not cache.pinned("s")
    assert [r.levelname for r in caplog.records if r.name == "mcpreg.warming"] == ["ERROR"]
