"""Token buckets and the rule for reading a rate limit (``domain.rate_limits``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.rate_limits import Bucket, Limit, Limits, parse_limits, retry_after_header, take
from mcpreg.errors import ValidationFailed


def admitted(limit: Limit, times: list[float]) -> int:
    bucket: Bucket | None = None
    count = 0
    for now in times:
        candidate, wait = take(limit, bucket, now)
        if wait == 0:
            bucket, count = candidate, count + 1
    return count


@given(
    rate=st.floats(0.5, 200),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 0.2), min_size=1, max_size=300),
)
def test_a_bucket_never_admits_more_than_its_burst_plus_what_refilled(
    rate: float, burst: int, gaps: list[float]
) -> None:
    times, now = [], 0.0
    for gap in gaps:
        now += gap
        times.append(now)
    assert admitted(Limit(rate, burst), times) <= burst + rate * (times[-1] - times[0]) + 1e-6


@given(rate=st.floats(1, 100), burst=st.integers(2, 20), seconds=st.floats(1, 10))
def test_under_constant_demand_a_bucket_admits_its_burst_plus_its_rate(
    rate: float, burst: int, seconds: float
) -> None:
    # (A burst of 1 admits less between discrete arrivals: what refills past a full bucket of
    # one token while it waits for the next arrival is lost, as it should be.)
    demand = int(4 * (burst + rate * seconds))  # four times what can be admitted
    times = [seconds * i / demand for i in range(demand + 1)]
    expected = burst + rate * times[-1]
    assert expected - 2 <= admitted(Limit(rate, burst), times) <= expected + 1e-6


def test_a_refusal_says_how_long_until_a_token_is_there() -> None:
    limit = Limit(rate=2.0, burst=1)
    full, wait = take(limit, None, 10.0)
    assert wait == 0 and full.tokens == 0
    _, wait = take(limit, full, 10.1)
    assert wait == pytest.approx(0.4)
    assert retry_after_header(0.4) == "1"
    assert retry_after_header(2.01) == "3"


def test_a_clock_that_goes_back_refills_nothing() -> None:
    limit = Limit(rate=100.0, burst=5)
    bucket = Bucket(tokens=0.0, stamp=50.0)
    _, wait = take(limit, bucket, 40.0)
    assert wait > 0


def test_limits_are_read_in_pairs() -> None:
    assert parse_limits({"rate": 5, "burst": 10}) == Limits(Limit(5.0, 10), None)
    assert parse_limits({"clientRate": 0.5, "clientBurst": 2}) == Limits(None, Limit(0.5, 2))
    both = parse_limits({"rate": 5, "burst": 10, "clientRate": 1, "clientBurst": 3})
    assert both.to_dict() == {"rate": 5.0, "burst": 10, "clientRate": 1.0, "clientBurst": 3}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "rate", "validation_failed"),
        ({"rate": 5}, "burst", "validation_failed"),
        ({"clientBurst": 5}, "clientRate", "validation_failed"),
        ({"rate": 0, "burst": 1}, "rate", "validation_failed"),
        ({"rate": True, "burst": 1}, "rate", "validation_failed"),
        ({"rate": "5", "burst": 1}, "rate", "validation_failed"),
        ({"rate": 5, "burst": 1.5}, "burst", "validation_failed"),
        ({"rate": 5, "burst": 0}, "burst", "validation_failed"),
        ({"rate": 5, "burst": 10**7}, "burst", "validation_failed"),
        ({"rate": 5, "burst": 1, "per": "minute"}, "per", "unknown_field"),
    ],
)
def test_a_bad_limit_names_its_field(body: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_limits(body)
    assert (refused.value.field, refused.value.code) == (field, code)
