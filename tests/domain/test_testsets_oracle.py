"""The subset matcher against its oracle: PostgreSQL's ``jsonb @>`` on the same two values.

``domain.testsets.contains`` is documented as jsonb containment without its one top-level
exception (an array contains a scalar it holds); Hypothesis draws pairs, half of them with
the expected value taken out of the actual one so that containment holds often, and
PostgreSQL answers for each. Skips where PostgreSQL is absent (fails in CI).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mcpreg.domain.testsets import contains

# jsonb holds no NUL; numbers whose text both sides read as the same value.
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=3)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)


@st.composite
def inside(draw: st.DrawFn, value: Any) -> Any:
    """Part of ``value`` (which it contains), sometimes changed a little (which it may not)."""
    if isinstance(value, dict) and value:
        keys = draw(st.lists(st.sampled_from(sorted(value)), unique=True))
        return {k: draw(inside(value[k])) for k in keys}
    if isinstance(value, list) and value:
        return [draw(inside(v)) for v in draw(st.lists(st.sampled_from(value), max_size=3))]
    return draw(st.just(value) | SCALARS)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    actual = draw(JSON)
    expected = draw(inside(actual) | JSON)
    return actual, expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_subset_matches_exactly_when_postgresql_jsonb_contains(
    postgres_admin: sa.Engine, pair: tuple[Any, Any]
) -> None:
    actual, expected = pair
    assume(not (isinstance(actual, list) and not isinstance(expected, dict | list)))  # jsonb's exception
    with postgres_admin.connect() as conn:
        oracle = conn.exec_driver_sql(
            "SELECT %s::jsonb @> %s::jsonb", (json.dumps(actual), json.dumps(expected))
        ).scalar()
    assert contains(actual, expected) is oracle, (actual, expected)
