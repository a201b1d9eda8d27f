"""npm's version ranges, proven by npm's own test vectors and by properties.

The vectors are node-semver's fixtures in ``../shared/semver-reference`` (see its
SOURCE.md). Every strict case runs: 120 of range-include.json's 126, 91 of
range-exclude.json's 98 and 19 of comparisons.json's 31, 230 in all. The 25 loose cases
(6, 7 and 12: npm's loose parsing, ``1.2.3pre``, ``v1.2.3`` as a version) are skipped
because mcpreg has no loose mode. ``test_the_vector_files_hold_every_case_we_count``
fails when a file shrinks or vanishes, and in CI (MCPREG_REQUIRE_SHARED=1) when the
folder is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mcpreg.domain.ranges import MAX_RANGE_LENGTH, InvalidRange, is_range, parse_range
from mcpreg.domain.versions import (
    Version,
    check_range,
    max_satisfying,
    parse_version,
    sort_key,
    try_parse_version,
)
from mcpreg.errors import ValidationFailed
from tests.conftest import ROOT, _require

SEMVER_REFERENCE = ROOT.parent / "shared" / "semver-reference"
# file -> (strict cases run, loose cases skipped)
COUNTS = {"range-include": (120, 6), "range-exclude": (91, 7), "comparisons": (19, 12)}


def vector_cases(name: str) -> list[dict[str, Any]]:
    """Every case of one vector file (empty when the file is absent)."""
    path = SEMVER_REFERENCE / f"{name}.json"
    if not path.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(path.read_text())["cases"]
    return cases


def strict_cases(name: str) -> list[dict[str, Any]]:
    return [case for case in vector_cases(name) if not case["loose"]]


def case_id(case: dict[str, Any]) -> str:
    mode = " pre" if case["includePrerelease"] else ""
    if "greater" in case:
        return f"{case['greater']} > {case['lesser']}{mode}"
    return f"{case['range']!r} {case['version']!r}{mode}"


INCLUDE = strict_cases("range-include")
EXCLUDE = strict_cases("range-exclude")
COMPARISONS = strict_cases("comparisons")


def require_semver_reference() -> Path:
    """The vector folder; skips when it is absent (fails in CI, MCPREG_REQUIRE_SHARED=1)."""
    if not (SEMVER_REFERENCE / "SOURCE.md").is_file():
        _require("MCPREG_REQUIRE_SHARED", "../shared/semver-reference")
    return SEMVER_REFERENCE


def test_the_vector_files_hold_every_case_we_count() -> None:
    require_semver_reference()
    for name, (run, skipped) in COUNTS.items():
        cases = vector_cases(name)
        assert (len(strict_cases(name)), len(cases) - len(strict_cases(name))) == (run, skipped), name
    assert (len(INCLUDE), len(EXCLUDE), len(COMPARISONS)) == (120, 91, 19)


@pytest.mark.parametrize("case", INCLUDE, ids=case_id)
def test_every_version_npm_includes_satisfies_the_range(case: dict[str, Any]) -> None:
    version = parse_version(case["version"])
    prerelease = case["includePrerelease"]
    assert parse_range(case["range"], prerelease).test(version)
    assert max_satisfying([version], case["range"], prerelease=prerelease) == version


@pytest.mark.parametrize("case", EXCLUDE, ids=case_id)
def test_every_version_npm_excludes_is_outside_the_range(case: dict[str, Any]) -> None:
    prerelease = case["includePrerelease"]
    parsed = parse_range(case["range"], prerelease)  # every excluded range is itself valid
    text = case["version"]
    version = try_parse_version(text) if isinstance(text, str) else None
    if version is None:  # npm: what is not a version satisfies nothing; mcpreg cannot store it
        assert text in ("not a version", "glorp", False)
        return
    assert not parsed.test(version)
    assert max_satisfying([version], case["range"], prerelease=prerelease) is None


@pytest.mark.parametrize("case", COMPARISONS, ids=case_id)
def test_every_pair_npm_orders_is_ordered_so_by_versions_and_ranges(case: dict[str, Any]) -> None:
    greater, lesser = parse_version(case["greater"]), parse_version(case["lesser"])
    assert greater > lesser and sort_key(greater) > sort_key(lesser)
    for prerelease in (False, True):
        # a bound on the lesser version's own major.minor.patch, as npm's default mode needs
        assert max_satisfying([lesser, greater], f">={case['lesser']}", prerelease=prerelease) == greater
        assert max_satisfying([greater], f"<={case['lesser']}", prerelease=prerelease) is None
    assert max_satisfying([lesser, greater], f"<{case['greater']}", prerelease=True) == lesser
    assert max_satisfying([lesser], case["greater"], prerelease=True) is None


# -- the two answers, and npm's pre-release rule ---------------------------------


def versions(*texts: str) -> list[Version]:
    return [parse_version(t) for t in texts]


def test_an_exact_prerelease_range_with_prerelease_true_finds_that_prerelease() -> None:
    pool = versions("1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.1.0")
    assert max_satisfying(pool, "1.1.0-rc.2", prerelease=True) == parse_version("1.1.0-rc.2")


def test_a_range_below_a_release_finds_its_highest_release_candidate_by_default() -> None:
    pool = versions("1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.1.0-rc.9", "1.1.0-rc.10", "1.1.0")
    assert max_satisfying(pool, ">=1.1.0-rc.1 <1.1.0") == parse_version("1.1.0-rc.10")


def test_by_default_a_prerelease_counts_only_on_the_major_minor_patch_a_comparator_names() -> None:
    pool = versions("1.2.3-rc.2", "1.2.4-rc.1")
    assert max_satisfying(pool, ">=1.2.3-rc.1") == parse_version("1.2.3-rc.2")
    assert max_satisfying(pool, ">=1.2.3-rc.1", prerelease=True) == parse_version("1.2.4-rc.1")
    assert max_satisfying(versions("1.3.0-beta"), "^1.2.0") is None
    assert max_satisfying(versions("1.3.0-beta"), "^1.2.0", prerelease=True) == parse_version("1.3.0-beta")


def test_include_prerelease_starts_sugar_at_the_lowest_prerelease() -> None:
    assert str(parse_range("^1.2", True)) == ">=1.2.0-0 <2.0.0-0"
    assert str(parse_range("~1.2", True)) == ">=1.2.0-0 <1.3.0-0"  # node-semver 7.8.5 (#878)
    assert str(parse_range("1.2.3 - 2", True)) == ">=1.2.3-0 <3.0.0-0"
    lowest = versions("1.2.0-0")
    assert max_satisfying(lowest, "~1.2", prerelease=True) == lowest[0]
    assert max_satisfying(versions("1.0.0-rc1"), "^1.0.0", prerelease=True) is None  # below 1.0.0


def test_npm_desugars_as_documented() -> None:
    expected = {
        "^0.0.3": ">=0.0.3 <0.0.4-0",
        "^0.2.3": ">=0.2.3 <0.3.0-0",
        "^1.2.3-beta.2": ">=1.2.3-beta.2 <2.0.0-0",
        "~1": ">=1.0.0 <2.0.0-0",
        "~>3.2.1": ">=3.2.1 <3.3.0-0",
        "1.2 - 2.3.4": ">=1.2.0 <=2.3.4",
        "1.2.3 - 2.3": ">=1.2.3 <2.4.0-0",
        ">1.2": ">=1.3.0",
        "<=1.2": "<1.3.0-0",
        ">*": "<0.0.0-0",
        "1.x || >=2.5.0 || 5.0.0 - 7.2.3": ">=1.0.0 <2.0.0-0||>=2.5.0||>=5.0.0 <=7.2.3",
        "* || 1.2.3": "",
        "": "",
    }
    assert {text: str(parse_range(text)) for text in expected} == expected
    assert check_range("^1.2") == ">=1.2.0 <2.0.0-0"


@pytest.mark.parametrize("lower", [">=0.0.0", "~0.0.0", "^0.0.0"])
def test_npm_reads_a_gte_zero_bound_as_star_in_default_mode_only(lower: str) -> None:
    # node-semver 7.8.5 answers true, then false with includePrerelease; so does mcpreg
    beta = versions("0.0.0-beta")
    assert max_satisfying(beta, f"{lower} >=0.0.0-alpha") == beta[0]
    assert max_satisfying(beta, f"{lower} >=0.0.0-alpha", prerelease=True) is None


def test_npm_keeps_only_the_star_of_an_alternation_with_a_star() -> None:
    # `* || 1.2.3-beta` is `*`, so by default it no longer admits 1.2.3-beta (as npm)
    beta = versions("1.2.3-beta")
    assert max_satisfying(beta, "1.2.3-beta") == beta[0]
    assert max_satisfying(beta, "* || 1.2.3-beta") is None
    assert max_satisfying(beta, "* || 1.2.3-beta", prerelease=True) == beta[0]


@pytest.mark.parametrize(
    "text",
    ["^^1", "1.2.3.4", "banana", ">=1.0.0 <", "1.*.3", "x.1", "01.2.3", "1.2.3-01", "1.2.3pre", "=>1"],
)
def test_what_npm_refuses_is_an_invalid_range_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_range(text)
    assert (caught.value.code, caught.value.field) == ("invalid_range", "range")
    with pytest.raises(ValidationFailed):
        max_satisfying(versions("1.0.0"), text)
    assert not is_range(text)


def test_an_empty_range_is_refused_as_missing_although_npm_reads_it_as_star() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_range("")
    assert (caught.value.code, caught.value.field) == ("invalid_range", "range")
    assert max_satisfying(versions("1.0.0", "2.0.0"), "") == parse_version("2.0.0")


@pytest.mark.parametrize(
    "text",
    [f"^{2**53 - 1}.0.0", f"{2**53}.0.0", "1.0.0-" + "a" * 251, "1.0.0 || " * 40 + "1.0.0"],
    ids=["caret-bound-past-2**53-1", "2**53", "bound-past-256-characters", "range-past-256-characters"],
)
def test_numbers_above_two_to_the_53_and_overlong_bounds_or_ranges_are_refused(text: str) -> None:
    # npm: numbers up to 2**53 - 1, versions up to 256 characters; mcpreg: ranges up to 256 too
    with pytest.raises(ValidationFailed) as caught:
        check_range(text)
    assert caught.value.code == "invalid_range"
    with pytest.raises(InvalidRange):
        parse_range(text, True)
    assert check_range(f">={2**53 - 1}.0.0") == f">={2**53 - 1}.0.0"
    assert MAX_RANGE_LENGTH == 256


def test_white_space_is_javascripts_not_pythons() -> None:
    assert max_satisfying(versions("1.2.3"), ">=\u00a01.2.3 ||\u30002.0.0") == parse_version("1.2.3")
    for text in ("1.2.3 \x1c 1.2.4", "\u0661.2.3"):  # Python's \s has \x1c; \u0661 is a digit to Python
        with pytest.raises(ValidationFailed):
            check_range(text)
        assert not is_range(text)


# -- properties ------------------------------------------------------------------------

NUMBERS = st.sampled_from([0, 1, 10])
PRERELEASES = st.sampled_from(["0", "1", "alpha", "alpha.1", "beta.2", "rc.1", "rc.10"])


@st.composite
def semvers(draw: st.DrawFn) -> Version:
    text = ".".join(str(draw(NUMBERS)) for _ in range(3))
    if draw(st.booleans()):
        text += "-" + draw(PRERELEASES)
    return parse_version(text)


@st.composite
def partials(draw: st.DrawFn) -> str:
    """A version, partial version or x-range as npm writes them (x only after numbers)."""
    numbered = draw(st.integers(0, 3))
    parts = [str(draw(NUMBERS)) for _ in range(numbered)]
    parts += [draw(st.sampled_from(["x", "X", "*"])) for _ in range(draw(st.integers(0, 3 - numbered)))]
    if not parts:
        return "*"
    text = ".".join(parts)
    if numbered == 3 and draw(st.booleans()):
        text += "-" + draw(PRERELEASES)
    return text


comparators = st.one_of(
    st.tuples(st.sampled_from(["", "=", "<", "<=", ">", ">=", "~", "~>", "^"]), partials()).map("".join),
    st.tuples(partials(), partials()).map(" - ".join),
)
comparator_sets = st.lists(comparators, min_size=1, max_size=3).map(" ".join)
ranges = st.lists(comparator_sets, min_size=1, max_size=3).map(" || ".join)


@given(semvers(), st.sampled_from(["", "=", "v", "=v"]), st.sampled_from(["", "+build.7"]), st.booleans())
def test_a_version_satisfies_its_own_exact_range_in_both_modes(
    version: Version, prefix: str, build: str, prerelease: bool
) -> None:
    text = prefix + version.text + build
    assert max_satisfying([version], text, prerelease=prerelease) == version


@given(semvers(), semvers())
def test_a_caret_range_admits_up_to_the_next_breaking_version(base: Version, other: Version) -> None:
    assume(not base.is_prerelease)
    if base.major:
        upper = f"{base.major + 1}.0.0-0"
    elif base.minor:
        upper = f"0.{base.minor + 1}.0-0"
    else:
        upper = f"0.0.{base.patch + 1}-0"
    inside = base <= other < parse_version(upper)
    assert (max_satisfying([other], f"^{base.text}", prerelease=True) is not None) == inside
    assert (max_satisfying([other], f"^{base.text}") is not None) == (inside and not other.is_prerelease)


# The default mode writes ``>=0.0.0`` for these and then reads it as ``*``; with
# includePrerelease it stays ``>=0.0.0``, below which 0.0.0's pre-releases fall (see above).
GTE_ZERO = re.compile(r"(>=|~>?|\^)0\.0\.0(?!-)")


@given(ranges, semvers())
def test_include_prerelease_admits_every_version_the_default_mode_admits(text: str, version: Version) -> None:
    assume(is_range(text) and not GTE_ZERO.search(text))  # npm's one exception
    if max_satisfying([version], text) is not None:
        assert max_satisfying([version], text, prerelease=True) == version


@given(comparator_sets, comparator_sets, semvers(), st.booleans())
def test_an_alternation_admits_exactly_the_union_of_its_sets(a: str, b: str, v: Version, pre: bool) -> None:
    assume(is_range(a) and is_range(b))
    assume(pre or not v.is_prerelease)  # npm's one exception: `*` swallows its siblings

    def admits(text: str) -> bool:
        return max_satisfying([v], text, prerelease=pre) is not None

    assert admits(f"{a} || {b}") == (admits(a) or admits(b))


@given(ranges, st.lists(semvers(), max_size=8), st.booleans())
def test_the_best_match_is_the_highest_version_the_range_admits(
    text: str, pool: list[Version], prerelease: bool
) -> None:
    assume(is_range(text))
    admitted = [v for v in pool if parse_range(text, prerelease).test(v)]
    assert max_satisfying(pool, text, prerelease=prerelease) == (max(admitted) if admitted else None)
