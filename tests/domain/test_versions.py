"""SemVer 2.0.0 parsing, precedence (spec section 11), ranges and channel names."""

from __future__ import annotations

import logging
import random

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.versions import (
    check_channel_name,
    check_range,
    max_satisfying,
    parse_version,
    sort_key,
    try_parse_version,
)
from mcpreg.errors import ValidationFailed

SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]


def test_the_spec_example_is_ordered_by_precedence_not_by_string() -> None:
    shuffled = SPEC_ORDER[:]
    random.Random(7).shuffle(shuffled)
    assert [v.text for v in sorted(parse_version(v) for v in shuffled)] == SPEC_ORDER


def test_rc_10_comes_after_rc_9_unlike_string_order() -> None:
    assert parse_version("2.0.0-rc.10") > parse_version("2.0.0-rc.9")
    assert sort_key(parse_version("2.0.0-rc.10")) > sort_key(parse_version("2.0.0-rc.9"))
    assert parse_version("1.10.0") > parse_version("1.9.0")


def test_build_metadata_does_not_count_for_precedence() -> None:
    a, b = parse_version("1.2.3+build.1"), parse_version("1.2.3+build.2")
    assert a == b and sort_key(a) == sort_key(b)
    assert a.precedence_text == "1.2.3"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("v1.2.0", "drop the leading v"),
        ("1.2", "write it in full"),
        ("1", "write it in full"),
        ("01.2.3", "leading zeros"),
        ("^1.2.0", "not a range"),
        ("latest", "not a range"),
        ("1.2.3.4", "exactly three numbers"),
        (" 1.2.3", "white space"),
    ],
)
def test_non_semver_is_refused_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_version(text)
    assert caught.value.code == "invalid_version"
    assert hint in caught.value.detail


def test_ranges_pick_the_highest_match_and_prereleases_only_on_request() -> None:
    versions = [parse_version(v) for v in ["1.2.0", "1.4.2", "1.5.0-rc.1", "2.0.0"]]
    assert max_satisfying(versions, "^1.2.0").text == "1.4.2"  # type: ignore[union-attr]
    assert max_satisfying(versions, "^1.2.0", prerelease=True).text == "1.5.0-rc.1"  # type: ignore[union-attr]
    assert max_satisfying(versions, "~1.2.0").text == "1.2.0"  # type: ignore[union-attr]
    assert max_satisfying(versions, ">=3") is None


def test_a_malformed_range_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_range("^^1")
    assert caught.value.code == "invalid_range"


@pytest.mark.parametrize("name", ["next", "beta", "canary-eu", "lts.2024"])
def test_word_channel_names_are_accepted(name: str) -> None:
    assert check_channel_name(name) == name


@pytest.mark.parametrize("name", ["1.2.3", "v1", "x", "1.x", "^1.0.0", "Next", "", "-a", "a" * 65])
def test_channel_names_that_parse_as_versions_or_ranges_or_are_malformed_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_channel_name(name)
    assert caught.value.code == "invalid_channel"


identifier = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=6).filter(
        lambda s: not s.isdigit()
    ),
)
versions = st.builds(
    lambda major, minor, patch, pre, build: (
        f"{major}.{minor}.{patch}" + ("-" + ".".join(pre) if pre else "") + ("+" + build if build else "")
    ),
    st.integers(0, 10**15),
    st.integers(0, 10**4),
    st.integers(0, 10**4),
    st.lists(identifier, max_size=4),
    st.sampled_from(["", "build.1", "sha.abc"]),
)


@given(versions, versions)
def test_sort_key_order_equals_semver_precedence(a: str, b: str) -> None:
    expected = semver.Version.parse(a).compare(semver.Version.parse(b))
    ka, kb = sort_key(parse_version(a)), sort_key(parse_version(b))
    assert (ka > kb) - (ka < kb) == expected


@given(versions)
def test_every_generated_version_round_trips_its_text(text: str) -> None:
    assert parse_version(text).text == text


@given(
    st.text(max_size=40) | st.from_regex(r"\d{1,3}\.\d{1,3}\.\d{1,3}(-[0-9A-Za-z.-]{1,8})?", fullmatch=True)
)
def test_try_parse_version_answers_none_exactly_where_parse_version_refuses(text: str) -> None:
    try:
        expected = parse_version(text)
    except ValidationFailed:
        expected = None
    assert try_parse_version(text) == expected


def test_looking_up_a_tag_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        assert try_parse_version("latest") is None
        with pytest.raises(ValidationFailed):
            parse_version("latest")  # its hint asks the range parser whether it is a range
        with pytest.raises(ValidationFailed):
            check_channel_name("x")
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
