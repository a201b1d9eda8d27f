"""Sticky canary assignment."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mcpreg.domain.bucketing import BUCKETS, bucket, in_canary, route, threshold
from mcpreg.errors import ValidationFailed

names = st.text(max_size=20)
weights = st.floats(min_value=0, max_value=100, allow_nan=False)


def test_the_bucket_is_sha256_over_length_prefixed_fields() -> None:
    """Pinned: changing the encoding would reshuffle every live canary."""
    digest = hashlib.sha256(b"mcpreg/canary-bucket/v1\x00")
    for part in (b"io.x/a", b"prod", b"r1", b"client-7"):
        digest.update(len(part).to_bytes(4, "big") + part)
    expected = int.from_bytes(digest.digest()[:8], "big") % BUCKETS
    assert bucket("io.x/a", "prod", "r1", "client-7") == expected


def test_fields_cannot_bleed_into_each_other() -> None:
    assert bucket("ab", "c", "r", "x") != bucket("a", "bc", "r", "x")


def test_a_request_without_a_client_id_gets_stable() -> None:
    assert route("io.x/a", "prod", "r1", None, 99.99) == "stable"
    assert route("io.x/a", "prod", "r1", "", 99.99) == "stable"


def test_weight_zero_is_all_stable_and_weight_hundred_all_canary() -> None:
    for i in range(200):
        assert route("io.x/a", "prod", "r1", f"c{i}", 0) == "stable"
        assert route("io.x/a", "prod", "r1", f"c{i}", 100) == "canary"


def test_decimal_weights_cover_a_proportional_number_of_buckets() -> None:
    assert threshold(2.5) == 250
    assert threshold(0.01) == 1
    assert threshold(0.07) == 7
    assert threshold(100) == BUCKETS
    assert in_canary(249, 2.5)
    assert not in_canary(250, 2.5)


@pytest.mark.parametrize("weight", [-0.1, 100.01, float("nan"), float("inf"), True])
def test_a_weight_outside_zero_to_hundred_is_refused(weight: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        in_canary(0, weight)
    assert caught.value.code == "validation_failed"
    assert caught.value.field == "weight"


def test_a_weight_outside_zero_to_hundred_is_refused_even_without_a_client_id() -> None:
    with pytest.raises(ValidationFailed) as caught:
        route("io.x/a", "prod", "r1", None, 101)
    assert caught.value.field == "weight"


@pytest.mark.parametrize("value", [-1, BUCKETS])
def test_a_bucket_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        in_canary(value, 50)
    assert caught.value.field == "bucket"


@given(names, names, names, names)
def test_the_bucket_is_in_range_and_sticky(server: str, environment: str, rollout: str, client: str) -> None:
    first = bucket(server, environment, rollout, client)
    assert 0 <= first < BUCKETS
    assert bucket(server, environment, rollout, client) == first


@given(names, names, weights)
def test_a_client_keeps_its_track_for_a_given_weight(rollout: str, client: str, weight: float) -> None:
    assert route("io.x/a", "prod", rollout, client, weight) == route(
        "io.x/a", "prod", rollout, client, weight
    )


@given(st.integers(0, BUCKETS - 1), weights, weights)
def test_widening_never_drops_a_client_from_the_canary(slot: int, w1: float, w2: float) -> None:
    low, high = sorted((w1, w2))
    if in_canary(slot, low):
        assert in_canary(slot, high)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(weights, st.integers(0, 2**32), names)
def test_the_canary_share_is_close_to_the_weight(weight: float, seed: int, rollout: str) -> None:
    rng = random.Random(seed)
    clients = [f"{rng.getrandbits(64):016x}" for _ in range(10_000)]
    in_canary_count = sum(route("io.x/a", "prod", rollout, client, weight) == "canary" for client in clients)
    assert abs(in_canary_count / 100 - weight) <= 2


@settings(max_examples=20)
@given(names, names)
def test_a_new_rollout_id_reshuffles_the_canary(first: str, second: str) -> None:
    assume(first != second)
    clients = [f"client-{i}" for i in range(1_000)]

    def canary(rollout: str) -> set[str]:
        return {c for c in clients if route("io.x/a", "prod", rollout, c, 50) == "canary"}

    assert canary(first) != canary(second)
