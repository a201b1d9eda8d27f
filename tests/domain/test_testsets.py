"""Test sets (``domain.testsets``): parsing names the bad field, and the three matchers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpreg.domain.testsets import (
    MAX_REGEX,
    MAX_SEARCHED,
    ToolAnswer,
    contains,
    judge,
    parse_file,
    parse_testset,
    same,
)
from mcpreg.errors import ValidationFailed

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
)
SCALARS |= st.text(max_size=5)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def case(expect: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "c", "tool": "t", "expect": expect, **extra}


def one(expect: dict[str, Any]) -> Any:
    return parse_testset("smoke", {"cases": [case(expect)]}).cases[0]


def refused(body: object, name: str = "smoke") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_testset(name, body)
    return caught.value


# -- the subset matcher ---------------------------------------------------------------------------


@settings(max_examples=40)
@given(JSON)
def test_every_value_contains_itself(value: Any) -> None:
    assert contains(value, value)


@settings(max_examples=40)
@given(st.dictionaries(st.text(max_size=4), JSON, max_size=6), st.data())
def test_an_object_contains_any_of_its_sub_objects(actual: dict[str, Any], data: st.DataObject) -> None:
    keys = data.draw(st.lists(st.sampled_from(sorted(actual)), unique=True) if actual else st.just([]))
    assert contains(actual, {k: actual[k] for k in keys})


@settings(max_examples=40)
@given(st.lists(JSON, max_size=6), st.data())
def test_an_array_contains_any_selection_of_its_elements_in_any_order(
    actual: list[Any], data: st.DataObject
) -> None:
    picked = data.draw(st.lists(st.sampled_from(actual), max_size=8) if actual else st.just([]))
    assert contains(actual, picked)
    assert contains(actual, list(reversed(picked)))


@settings(max_examples=40)
@given(JSON, JSON, JSON)
def test_containment_is_transitive(a: Any, b: Any, c: Any) -> None:
    if contains(a, b) and contains(b, c):
        assert contains(a, c)


@settings(max_examples=40)
@given(JSON, JSON)
def test_values_that_contain_each_other_and_are_not_arrays_are_the_same(a: Any, b: Any) -> None:
    # Arrays are sets under containment ([1, 1] and [1] contain each other); nothing else is.
    if contains(a, b) and contains(b, a) and not _has_array(a) and not _has_array(b):
        assert same(a, b)


def _has_array(value: Any) -> bool:
    if isinstance(value, list):
        return True
    return isinstance(value, dict) and any(_has_array(v) for v in value.values())


@settings(max_examples=40)
@given(st.dictionaries(st.text(max_size=4), JSON, min_size=1, max_size=5), st.text(max_size=4), JSON)
def test_an_object_never_contains_a_key_it_lacks(actual: dict[str, Any], key: str, value: Any) -> None:
    if key not in actual:
        assert not contains(actual, {key: value})


def test_subset_examples_follow_jsonb_containment() -> None:
    actual = {"city": "Paris", "days": [{"t": 21, "sky": "sun"}, {"t": 18}], "ok": True, "n": 1}
    assert contains(actual, {"days": [{"t": 18}]})
    assert contains(actual, {"days": [{"t": 18}, {"sky": "sun"}]})  # any order
    assert contains(actual, {"days": []})
    assert contains(actual, {"n": 1.0})
    assert not contains(actual, {"ok": 1})  # a boolean is never a number
    assert not contains(actual, {"n": True})
    assert not contains(actual, {"days": {"t": 18}})
    assert not contains(actual, {"days": [18]})  # a scalar is not inside an array's object
    assert not contains(actual, {"city": "paris"})


# -- parsing ---------------------------------------------------------------------------------------


def test_a_set_parses_with_its_defaults_written_out() -> None:
    parsed = parse_testset(
        "smoke",
        {"cases": [case({"regex": "sunny"}), {"name": "d", "tool": "fail", "expect": {"isError": True}}]},
    )
    assert parsed.to_dict() == {
        "description": "",
        "timeoutSeconds": 10.0,
        "cases": [
            {"name": "c", "tool": "t", "arguments": {}, "expect": {"regex": "sunny", "isError": False}},
            {"name": "d", "tool": "fail", "arguments": {}, "expect": {"isError": True}},
        ],
    }


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"cases": [case({"regex": "ok"}), case({"regex": "("}, name="b")]}, "cases[1].expect.regex", None),
        ({"cases": [case({"regex": "a" * (MAX_REGEX + 1)})]}, "cases[0].expect.regex", None),
        ({"cases": [case({"regex": 3})]}, "cases[0].expect.regex", None),
        ({"cases": [case({"subset": "text"})]}, "cases[0].expect.subset", None),
        ({"cases": [case({"exact": 1, "regex": "x"})]}, "cases[0].expect", None),
        ({"cases": [case({})]}, "cases[0].expect", None),
        ({"cases": [case({"exact": 1, "isError": "no"})]}, "cases[0].expect.isError", None),
        ({"cases": [case({"exact": 1, "within": 2})]}, "cases[0].expect.within", "unknown_field"),
        ({"cases": [case({"exact": 1}, arguments=[1])]}, "cases[0].arguments", None),
        ({"cases": [case({"exact": 1}, tool="")]}, "cases[0].tool", None),
        ({"cases": [{"tool": "t", "expect": {"exact": 1}}]}, "cases[0].name", None),
        ({"cases": [{"name": "c", "tool": "t"}]}, "cases[0].expect", None),
        ({"cases": [case({"exact": 1}), case({"exact": 2})]}, "cases[1].name", None),
        ({"cases": [case({"exact": 1})], "timeoutSeconds": 0}, "timeoutSeconds", None),
        ({"cases": [case({"exact": 1})], "timeoutSeconds": True}, "timeoutSeconds", None),
        ({"cases": []}, "cases", None),
        ({"cases": "all"}, "cases", None),
        ({"cases": [case({"exact": 1})], "owner": "me"}, "owner", "unknown_field"),
        ({"cases": [case({"exact": float("nan")})]}, "cases[0].expect.exact", None),
        ({"cases": [7]}, "cases[0]", None),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(
    body: dict[str, Any], field: str, code: str | None
) -> None:
    error = refused(body)
    assert (error.field, error.code) == (field, code or "validation_failed")


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 129, "é"])
def test_a_bad_set_name_is_refused(name: str) -> None:
    assert refused({"cases": [case({"exact": 1})]}, name).field == "testset"


def test_a_testsets_file_names_each_set_by_its_key() -> None:
    sets = parse_file(
        {"testsets": {"smoke": {"cases": [case({"exact": 1})]}, "deep": {"cases": [case({"exact": 2})]}}}
    )
    assert [s.name for s in sets] == ["smoke", "deep"]
    with pytest.raises(ValidationFailed) as caught:
        parse_file({"testsets": {"smoke": {"cases": [case({"regex": "["})]}}})
    assert caught.value.field == "testsets.smoke.cases[0].expect.regex"
    with pytest.raises(ValidationFailed) as caught:
        parse_file({"sets": {}})
    assert caught.value.field == "testsets"


# -- judging ---------------------------------------------------------------------------------------


def test_exact_compares_structured_content_or_the_text_or_the_text_as_json() -> None:
    assert judge(one({"exact": {"t": 21}}), ToolAnswer(False, "", {"t": 21})).passed
    assert judge(one({"exact": "sunny"}), ToolAnswer(False, "sunny")).passed
    assert judge(one({"exact": {"t": 21}}), ToolAnswer(False, '{"t": 21.0}')).passed
    missed = judge(one({"exact": {"t": 21}}), ToolAnswer(False, '{"t": 21, "extra": 1}'))
    assert not missed.passed and "expected exactly" in missed.reason
    assert not judge(one({"exact": 1}), ToolAnswer(False, "true")).passed


def test_subset_reads_structured_content_then_the_text_as_json() -> None:
    whoami = ToolAnswer(False, '{"version": "1.1.0", "headers": {}}', {"result": '{"version": "1.1.0"}'})
    assert judge(one({"subset": {"version": "1.1.0"}}), whoami).passed
    assert not judge(one({"subset": {"version": "1.0.0"}}), whoami).passed
    not_json = judge(one({"subset": {"a": 1}}), ToolAnswer(False, "plain words"))
    assert not not_json.passed and "not JSON" in not_json.reason


def test_regex_searches_the_text_up_to_its_cap() -> None:
    assert judge(one({"regex": r"ver\w+"}), ToolAnswer(False, "a version")).passed
    assert not judge(one({"regex": "^version"}), ToolAnswer(False, "a version")).passed
    far = "x" * MAX_SEARCHED + "needle"
    assert not judge(one({"regex": "needle"}), ToolAnswer(False, far)).passed


def test_an_error_answer_fails_unless_the_case_expects_one() -> None:
    failed = ToolAnswer(True, "Error executing tool fail")
    assert not judge(one({"regex": "Error"}), failed).passed
    assert judge(one({"regex": "Error", "isError": True}), failed).passed
    assert judge(one({"isError": True}), failed).passed
    unexpected = judge(one({"isError": True}), ToolAnswer(False, "fine"))
    assert not unexpected.passed and "error was expected" in unexpected.reason


def test_what_came_back_is_shown_cut_to_a_few_kilobytes() -> None:
    shown = ToolAnswer(False, "y" * 100_000).shown()
    assert len(shown) == 4096 and shown.endswith("…")


def test_secret_values_are_masked_before_what_came_back_is_cut() -> None:
    secret = 'sk-"live"-42'
    answer = ToolAnswer(False, f'{{"headers": {{"x-api-key": {json.dumps(secret)}}}}}')
    assert secret not in answer.shown([secret]) and json.dumps(secret)[1:-1] not in answer.shown([secret])
    assert "********" in answer.shown([secret])
    missed = judge(one({"subset": {"headers": {"x-api-key": "other"}}}), answer, [secret])
    assert not missed.passed and "sk-" not in missed.reason
    cut = ToolAnswer(False, "x" * 4090 + secret).shown([secret])
    assert "sk-" not in cut  # masked whole, then cut: no half secret at the edge
