"""The response cache: bounded by bytes, retired by what a change affects, answered at the door."""

from __future__ import annotations

import random
import tracemalloc

import httpx
import orjson
import pytest

from mcpreg.api.fastpath.cache import ENTRY_OVERHEAD, ResponseCache
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.services.journal import current_generations
from tests.conftest import publish, server_doc
from tests.support.live import LiveServer
from tests.support.waiting import wait_until

DETAIL = "/v0.1/servers/io.github.acme/weather/versions/latest"


def cached(cache: ResponseCache, key: str, body: bytes, *, catalogue_only: bool = True) -> None:
    cache.put(key, cache.entry(body, catalogue_only=catalogue_only), cache.mark())


def test_the_cache_is_bounded_by_bytes_and_evicts_the_least_recently_used() -> None:
    cache = ResponseCache(max_bytes=3 * (1000 + ENTRY_OVERHEAD + 1))
    for key in "abc":
        cached(cache, key, b"x" * 1000)
    assert cache.get("a") is not None  # a is now the most recently used
    cached(cache, "d", b"x" * 1000)
    assert [k for k in "abcd" if cache.get(k) is not None] == ["a", "c", "d"]
    assert cache.bytes <= cache.max_bytes


def test_an_answer_larger_than_the_whole_cache_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cached(cache, "small", b"{}")
    cached(cache, "huge", random.Random(1).randbytes(20_000))  # stored gzipped: incompressible
    assert cache.get("huge") is None and cache.get("small") is not None


def test_a_cached_body_holds_no_more_memory_than_its_bytes() -> None:
    cache = ResponseCache()
    tracemalloc.start()
    try:  # orjson hands back its grown write buffer: 8 KB for a 1 KB answer
        entries = [cache.entry(orjson.dumps({"server": "x" * 1000, "n": i})) for i in range(200)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 2 * sum(len(entry.body) for entry in entries)


def test_a_cache_of_zero_bytes_keeps_nothing() -> None:
    cache = ResponseCache(max_bytes=0)
    cached(cache, "a", b"{}")
    assert cache.get("a") is None and cache.bytes == 0


def test_a_deployment_change_keeps_catalogue_answers_and_retires_the_others() -> None:
    cache = ResponseCache()
    cached(cache, "official", b"{}")
    cached(cache, "environment view", b"{}", catalogue_only=False)
    cache.invalidate(catalogue=False)
    assert cache.get("official") is not None
    assert cache.get("environment view") is None
    cache.invalidate()
    assert cache.get("official") is None and cache.bytes == 0


def test_the_generation_watcher_retires_what_each_kind_of_change_affects() -> None:
    cache = ResponseCache()
    cache.observe(1, 1)
    cached(cache, "official", b"{}")
    cached(cache, "environment view", b"{}", catalogue_only=False)
    cache.observe(2, 1)  # a deployment on another replica
    assert (cache.get("official") is not None, cache.get("environment view") is None) == (True, True)
    cache.observe(3, 2)  # a publish on another replica
    assert cache.get("official") is None


def test_a_render_started_before_a_change_is_not_stored() -> None:
    cache = ResponseCache()
    started = cache.mark()
    cache.invalidate(catalogue=False)
    cache.put("view", cache.entry(b"{}", catalogue_only=False, epoch=started[0]), started)
    cache.put("official", cache.entry(b"{}"), started)  # a deployment cannot make it stale
    assert cache.get("view") is None and cache.get("official") is not None
    started = cache.mark()
    cache.invalidate()
    cache.put("official", cache.entry(b"{}"), started)
    assert cache.get("official") is None


def test_memos_are_emptied_on_every_change_and_refuse_older_values() -> None:
    cache = ResponseCache()
    memo = cache.memo(2)
    memo.put("a", 1, cache.epoch)
    cache.invalidate(catalogue=False)
    assert memo.get("a") is None
    stale = cache.epoch - 1
    memo.put("a", 1, stale)
    assert memo.get("a") is None
    for key in "abc":
        memo.put(key, key, cache.epoch)
    assert len(memo) == 2 and memo.get("a") is None  # bounded: the oldest goes first


def test_a_cached_answer_comes_back_identical_with_its_etag_and_304(
    api: httpx.Client, anon: httpx.Client
) -> None:
    publish(api, server_doc(version="1.0.0"))
    rendered = anon.get(DETAIL)  # rendered by the handler
    again = anon.get(DETAIL)  # answered at the front door
    assert rendered.status_code == again.status_code == 200
    assert again.content == rendered.content
    keep = ("etag", "cache-control", "vary", "content-type", "content-length")
    assert {h: again.headers.get(h) for h in keep} == {h: rendered.headers.get(h) for h in keep}
    revalidated = anon.get(DETAIL, headers={"If-None-Match": rendered.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == rendered.headers["etag"]


def test_a_publish_through_this_replica_is_served_at_once(api: httpx.Client, anon: httpx.Client) -> None:
    publish(api, server_doc(version="1.0.0"))
    assert anon.get(DETAIL).json()["server"]["version"] == "1.0.0"
    publish(api, server_doc(version="1.1.0"))
    assert anon.get(DETAIL).json()["server"]["version"] == "1.1.0"


def _settle(live: LiveServer, cache: ResponseCache) -> None:
    """Wait (bounded) until this replica's generation watcher has seen every committed change."""
    engine = runtime(live.app).engine

    def caught_up() -> bool:
        with unit_of_work(engine) as session:
            generation, catalogue = current_generations(session)
        return (cache.generation, cache.catalogue_generation) == (generation, catalogue)

    wait_until(caught_up, 5, "the generation watcher catching up")


def test_a_deployment_leaves_the_catalogue_cached_and_refreshes_the_environment_view(
    api: httpx.Client, anon: httpx.Client, live: LiveServer
) -> None:
    for version in ("1.0.0", "1.1.0"):
        publish(api, server_doc(version=version))
    view = "/environments/production/v0.1/servers/io.github.acme/weather/versions/latest"
    deploy = "/api/environments/production/deployments"
    assert api.post(deploy, json={"server": "io.github.acme/weather", "version": "1.0.0"}).status_code == 201
    cache = runtime(live.app).cache
    _settle(live, cache)  # the watcher has seen the publishes, so it will not evict again
    assert anon.get(view).json()["server"]["version"] == "1.0.0"
    anon.get(DETAIL)
    hits = cache.hits
    assert api.post(deploy, json={"server": "io.github.acme/weather", "version": "1.1.0"}).status_code == 201
    _settle(live, cache)  # and it has seen the deployment too: neither path evicted the catalogue
    assert anon.get(view).json()["server"]["version"] == "1.1.0"
    anon.get(DETAIL)
    assert cache.hits == hits + 1  # the official answer survived the deployment


def test_an_authenticated_read_is_never_answered_from_the_cache(
    api: httpx.Client, anon: httpx.Client
) -> None:
    publish(api, server_doc(version="1.0.0"))
    anon.get(DETAIL)
    response = httpx.get(f"{anon.base_url}{DETAIL}", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


@pytest.mark.parametrize("limit", [1, 2])
def test_a_list_page_is_the_same_from_the_handler_and_from_the_door(
    api: httpx.Client, anon: httpx.Client, limit: int
) -> None:
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        publish(api, server_doc(version=version))
    first = anon.get("/v0.1/servers", params={"limit": limit})
    again = anon.get("/v0.1/servers", params={"limit": limit})
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]


def test_a_write_through_this_replica_is_not_dropped_again_when_its_watcher_sees_it() -> None:
    cache = ResponseCache()
    cache.observe(4, 2)
    cache.invalidate()  # a publish through this replica, which moved the counters to (5, 3)
    cache.saw(5, 3)
    cached(cache, "official", b"{}")
    cache.observe(5, 3)  # the watcher catches up
    cache.observe(4, 2)  # a poll that read before the publish committed
    assert cache.get("official") is not None
    cache.observe(6, 4)  # then another replica publishes
    assert cache.get("official") is None
