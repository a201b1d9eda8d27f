"""Traffic numbers: latency buckets, windows and quantiles read from summed buckets."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.traffic import (
    BUCKET_COUNT,
    LATENCY_BUCKETS,
    VersionTraffic,
    add_buckets,
    bucket_index,
    method_label,
    parse_window,
    quantile,
)

latencies = st.floats(min_value=0, max_value=100, allow_nan=False)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("24h", 86400), ("1d", 86400), (" 15m ", 900), ("1s", 1)],
)
def test_a_window_is_a_whole_number_and_a_unit(text: str, seconds: int) -> None:
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "0s", "05m", "5min", "1.5m", "-5m", "25h", "2d", "5M", "٣m"])
def test_anything_else_is_not_a_window(text: str) -> None:
    assert parse_window(text) is None


@given(latencies)
def test_a_latency_falls_in_the_first_bucket_that_bounds_it(seconds: float) -> None:
    index = bucket_index(seconds)
    if index < len(LATENCY_BUCKETS):
        assert seconds <= LATENCY_BUCKETS[index]
    if index > 0:
        assert seconds > LATENCY_BUCKETS[index - 1]


def test_a_quantile_interpolates_inside_its_bucket_and_an_empty_histogram_has_none() -> None:
    buckets = [0] * BUCKET_COUNT
    assert quantile(buckets, 0.5) is None
    buckets[bucket_index(0.003)] = 100  # all in (0.0025, 0.005]
    assert quantile(buckets, 0.5) == pytest.approx(0.00375)
    assert quantile(buckets, 0.99) == pytest.approx(0.0025 + 0.0025 * 0.99)
    buckets[-1] = 100  # half beyond the last bound
    assert quantile(buckets, 0.99) == LATENCY_BUCKETS[-1]


@given(st.lists(latencies, min_size=1, max_size=200), st.sampled_from([0.5, 0.95, 0.99]))
def test_a_quantile_lies_in_the_bucket_of_the_true_quantile(values: list[float], q: float) -> None:
    buckets = [0] * BUCKET_COUNT
    for value in values:
        buckets[bucket_index(value)] += 1
    estimate = quantile(buckets, q)
    assert estimate is not None
    ordered = sorted(values)
    true = ordered[max(0, math.ceil(q * len(values)) - 1)]  # the ceil(q n)-th smallest
    index = bucket_index(true)
    upper = LATENCY_BUCKETS[index] if index < len(LATENCY_BUCKETS) else LATENCY_BUCKETS[-1]
    lower = LATENCY_BUCKETS[index - 1] if 0 < index <= len(LATENCY_BUCKETS) else 0.0
    assert lower - 1e-12 <= estimate <= upper + 1e-12


@given(
    st.lists(st.integers(0, 1000), max_size=BUCKET_COUNT),
    st.lists(st.integers(0, 1000), max_size=BUCKET_COUNT),
)
def test_summing_buckets_keeps_every_count(left: list[int], right: list[int]) -> None:
    total = add_buckets(left, right)
    assert sum(total) == sum(left) + sum(right)
    assert len(total) == max(len(left), len(right))


def test_only_mcp_methods_are_counted_by_name() -> None:
    assert method_label("tools/call") == "tools/call"
    assert method_label("") == ""
    assert method_label("x" * 500) == "other"
    assert method_label("tools/call2") == "other"


def test_errors_are_every_request_that_did_not_end_ok() -> None:
    traffic = VersionTraffic(
        version="1.1.0",
        track="canary",
        requests=10,
        outcomes={"ok": 6, "tool_error": 3, "timeout": 1},
        seconds_sum=0.5,
        buckets=[10] + [0] * (BUCKET_COUNT - 1),
        window_seconds=60,
    )
    assert traffic.errors == 4
    assert traffic.error_rate == pytest.approx(0.4)
    assert traffic.request_rate == pytest.approx(10 / 60)
    assert traffic.mean_seconds == pytest.approx(0.05)
