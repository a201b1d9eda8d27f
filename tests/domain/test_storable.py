"""The rules for values both databases can hold: row ids, times, NUL-free text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.storable import (
    MAX_DEPTH,
    MAX_ROW_ID,
    id_cursor,
    nul_pointer,
    parse_time,
    row_id,
    too_deep_pointer,
)
from mcpreg.errors import ValidationFailed

CLEAN_TEXT = st.text(alphabet=st.characters(exclude_characters="\x00"))
CLEAN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | CLEAN_TEXT,
    lambda children: st.lists(children) | st.dictionaries(CLEAN_TEXT, children),
    max_leaves=20,
)


@given(st.integers(min_value=1, max_value=MAX_ROW_ID))
def test_every_row_id_reads_back_as_itself(value: int) -> None:
    assert row_id(str(value)) == value


@pytest.mark.parametrize("text", ["0", "-1", str(MAX_ROW_ID + 1), "9" * 40, "²", "٣", "1_0", " 5", "+5", ""])
def test_what_no_row_can_have_is_no_row_id(text: str) -> None:
    assert row_id(text) is None
    with pytest.raises(ValidationFailed) as refused:
        id_cursor(text)
    assert (refused.value.code, refused.value.field) == ("invalid_cursor", "cursor")


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@given(CLEAN_JSON)
def test_a_document_without_nul_has_no_nul_pointer(document: Any) -> None:
    assert nul_pointer(document) is None


@given(CLEAN_JSON, st.text(alphabet="ab/~"), st.integers(min_value=0, max_value=3))
def test_the_nul_pointer_leads_to_a_string_holding_the_nul(document: Any, key: str, depth: int) -> None:
    planted: Any = "x\x00y"
    for _ in range(depth):
        planted = {key: [planted]}
    wrapped = {"clean": document, "planted": planted}
    pointer = nul_pointer(wrapped)
    assert pointer is not None and pointer.startswith("/planted")
    assert "\x00" in _resolve(wrapped, pointer)


def test_a_nul_in_a_key_is_named_by_that_key() -> None:
    assert nul_pointer({"a/b": {"c\x00": 1}}) == "/a~1b/c\x00"


def test_nesting_deeper_than_python_recurses_is_walked() -> None:
    deep: Any = "\x00"
    for _ in range(5000):
        deep = [deep]
    assert nul_pointer(deep) == "/0" * 5000


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_outside_years_1_to_9999_in_utc_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_time(text, field="since")
    assert refused.value.field == "since"


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_a_time_is_accepted_exactly_when_it_converts_to_utc(moment: datetime, minutes: int) -> None:
    shifted = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    try:
        expected = shifted.astimezone(UTC)
    except OverflowError:
        with pytest.raises(ValidationFailed):
            parse_time(shifted.isoformat(), field="at")
        return
    assert parse_time(shifted.isoformat(), field="at") == expected


@pytest.mark.parametrize("levels", [1, 10, MAX_DEPTH])
def test_nesting_up_to_the_limit_is_allowed(levels: int) -> None:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    assert too_deep_pointer(value) is None


def test_nesting_past_the_limit_is_named_where_it_passes_it() -> None:
    value: Any = {}
    for _ in range(MAX_DEPTH):
        value = {"a/b": value}
    assert too_deep_pointer(value) == "/a~1b" * MAX_DEPTH
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    assert too_deep_pointer(deep) == "/0" * MAX_DEPTH
