"""The benchmark harness: both baselines answer alike, and ratios are refused when they would
measure the load generator."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from bench import load, wrk
from bench.baseline import Canned, build_app, build_raw_app
from bench.machine import describe
from bench.results import RAW, STARLETTE, Results, ScenarioResult
from bench.workload import LoadResult

ETAG = '"abc"'
BODIES = {
    "list": Canned(200, b'{"servers":[]}', ETAG, (("content-type", "application/json"), ("vary", "X"))),
    "detail": Canned(200, b'{"server":{}}', ETAG, (("cache-control", "no-cache"),)),
    "resolve": Canned(200, b'{"track":"stable"}', None),
    "publish": Canned(200, b"{}", None),
}
REQUESTS = [
    ("GET", "/v0.1/servers?limit=100", {}),
    ("GET", "/v0.1/servers/io.github.acme/weather/versions/latest", {}),
    ("GET", "/v0.1/servers/io.github.acme/weather/versions/latest", {"If-None-Match": ETAG}),
    ("GET", "/api/environments/production/servers/io.github.acme/weather/resolve?client=7", {}),
    ("POST", "/v0.1/publish", {}),
]


async def _answers(app: Any) -> list[tuple[int, bytes, dict[str, str]]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client:
        out = []
        for method, path, headers in REQUESTS:
            response = await client.request(method, path, headers=headers, content=b"{}")
            out.append((response.status_code, response.content, dict(response.headers)))
        return out


def test_the_raw_asgi_baseline_sends_the_bytes_and_headers_the_starlette_one_does() -> None:
    starlette = asyncio.run(_answers(build_app(BODIES)))
    raw = asyncio.run(_answers(build_raw_app(BODIES)))
    assert raw == starlette
    assert [status for status, _, _ in raw] == [200, 200, 304, 200, 200]
    assert raw[1][2]["etag"] == ETAG and raw[1][2]["cache-control"] == "no-cache"


def _row(scenario: str, target: str, rps: float, *, cpu: float = 1.0, busy: float = 1.0) -> ScenarioResult:
    result = LoadResult(int(rps * 5), 5.0, 0, 1.0, 2.0, "wrk", 64)
    return ScenarioResult(scenario, target, 10_000, result, 100, {}, cpu, busy)


def _results(generator: str, *rows: ScenarioResult) -> Results:
    results = Results(machine=describe(), options={"load_generator": generator})
    results.scenarios.extend(rows)
    return results


def test_ratios_are_printed_against_both_baselines_when_every_server_was_kept_busy() -> None:
    results = _results("wrk", _row("detail", "sqlite", 24_000), _row("detail", STARLETTE, 20_000))
    results.scenarios.append(_row("detail", RAW, 30_000))
    mcpreg = results.scenarios[0]
    assert results.generator_bound("detail", 10_000) is None
    assert (results.ratio(mcpreg), results.ratio(mcpreg, RAW)) == (1.2, 0.8)


def test_no_ratio_is_printed_when_a_baseline_waited_for_the_generator() -> None:
    results = _results(
        "wrk",
        _row("detail", "sqlite", 5_000),
        _row("detail", STARLETTE, 5_000, cpu=0.4, busy=0.45),
        _row("detail", RAW, 5_100, cpu=0.3, busy=0.35),
    )
    assert results.generator_bound("detail", 10_000) is not None
    assert results.ratio(results.scenarios[0]) is None


def test_with_the_python_generator_a_target_near_the_raw_asgi_rate_gets_no_ratio() -> None:
    near = _results(
        "python", _row("list", "sqlite", 4_600), _row("list", STARLETTE, 3_000), _row("list", RAW, 5_000)
    )
    clear = _results(
        "python", _row("list", "sqlite", 3_000), _row("list", STARLETTE, 2_500), _row("list", RAW, 5_000)
    )
    unmeasured = _results("python", _row("list", "sqlite", 3_000), _row("list", STARLETTE, 2_500))
    assert near.generator_bound("list", 10_000) is not None
    assert clear.generator_bound("list", 10_000) is None
    assert unmeasured.generator_bound("list", 10_000) is not None


def test_a_server_short_of_cpu_while_its_loop_had_work_is_named_contended() -> None:
    results = _results("wrk", _row("resolve", RAW, 19_000, cpu=0.65, busy=0.93), _row("resolve", "sqlite", 1))
    assert len(results.contended("resolve", 10_000)) == 1


def test_without_wrk_the_benchmark_refuses_to_start_unless_python_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wrk, "available", lambda: False)
    with pytest.raises(SystemExit) as refused:
        load.generator_name("wrk")
    assert "apt-get install -y wrk" in str(refused.value)
    assert load.generator_name("python") == "python"
