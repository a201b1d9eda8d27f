"""The subregistry's pure rules: the order of upstream versions against the official
registry's ``CompareVersions`` (as an oracle, property-tested), coverage by namespace
patterns, and reading upstream times and intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpreg.domain.mirror import Coverage, MirrorVersion, mirror_version, parse_interval, read_upstream_time
from mcpreg.domain.versions import try_parse_version

SEMVER = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from(["", "rc.1", "rc.2", "alpha", "beta.3"]),
)
OTHER = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True).filter(
    lambda v: try_parse_version(v) is None
)
MOMENT = st.integers(0, 10**8).map(lambda s: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=s))


def official_compare(a: tuple[str, datetime], b: tuple[str, datetime]) -> int:
    """The official registry's CompareVersions (internal/service/versioning.go)."""
    va, vb = try_parse_version(a[0]), try_parse_version(b[0])
    if va is not None and vb is not None:
        return (va > vb) - (va < vb)
    if va is None and vb is None:
        return (a[1] > b[1]) - (a[1] < b[1])
    return 1 if va is not None else -1


VERSIONS = st.lists(
    st.tuples(st.one_of(SEMVER, OTHER), MOMENT), min_size=2, max_size=12, unique_by=lambda x: x[0]
)


@settings(max_examples=60, deadline=None)
@given(VERSIONS)
def test_precedence_keys_order_upstream_versions_as_the_official_registry_does(
    versions: list[tuple[str, datetime]],
) -> None:
    keys = {}
    for text, at in versions:
        stored = mirror_version(text, at)
        assert stored is not None
        keys[text] = stored.key
    for a in versions:
        for b in versions:
            if official_compare(a, b) < 0:  # equal times leave two non-SemVer ones unordered upstream
                assert keys[a[0]] < keys[b[0]]


@given(SEMVER, OTHER, MOMENT, MOMENT)
def test_a_semver_version_pre_release_or_not_is_latest_before_every_other(
    semver: str, other: str, at: datetime, other_at: datetime
) -> None:
    ours, theirs = mirror_version(semver, at), mirror_version(other, other_at)
    assert ours is not None and theirs is not None
    assert ours.semver and not theirs.semver

    def rank(v: MirrorVersion) -> tuple[bool, str]:  # how ``latest`` is chosen (importer, releases)
        return (not v.is_prerelease, v.key)

    assert rank(ours) > rank(theirs)


def test_ranges_blank_and_padded_versions_are_no_storable_version() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    assert mirror_version("", at) is None
    assert mirror_version(" 1.0.0", at) is None
    assert mirror_version("x" * 256, at) is None


def test_coverage_matches_the_whole_name_or_its_namespace_and_exclusions_win() -> None:
    cover = Coverage(("io.github.*",), ("io.github.spam", "io.github.acme/secret"))
    assert cover.covers("io.github.acme/tool")
    assert not cover.covers("io.github.spam/tool")
    assert not cover.covers("io.github.acme/secret")
    assert not cover.covers("com.example/tool")
    assert Coverage().covers("anything/at-all")


def test_upstream_times_are_read_with_nine_fraction_digits_and_a_zone_is_required() -> None:
    assert read_upstream_time("2025-08-07T13:15:04.123456789Z") == datetime(
        2025, 8, 7, 13, 15, 4, 123456, tzinfo=UTC
    )
    assert read_upstream_time("2025-08-07T15:15:04+02:00") == datetime(2025, 8, 7, 13, 15, 4, tzinfo=UTC)
    assert read_upstream_time("2025-08-07T13:15:04") is None
    assert read_upstream_time(12) is None


def test_intervals_are_durations_from_ten_seconds_to_seven_days() -> None:
    assert [parse_interval(t) for t in ("10m", "90s", "1h", "1d", "600")] == [600, 90, 3600, 86400, 600]
    assert [parse_interval(t) for t in ("9s", "8d", "ten", "-1m", "1.5h")] == [None] * 5
