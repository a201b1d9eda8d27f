"""Test sets: MCP tool calls with expected results, run against a version before promoting it.

A test set belongs to one server and has a name (``NAME``), an optional ``description``,
a per-call ``timeoutSeconds`` (default 10; a whole run stops after ``MAX_RUN`` seconds) and
a list of ``cases``. A case is a ``name`` (unique in the set), a ``tool``, its ``arguments``
(an object, default ``{}``) and an ``expect`` object holding exactly one of:

* ``exact``: the result equals the value: its ``structuredContent``, or its text content
  (every text item joined by a newline) as a string, or that text read as JSON;
* ``subset``: the result's JSON (its ``structuredContent``, or its text read as JSON)
  contains the value, as PostgreSQL's ``jsonb @>`` reads containment: an object contains
  another when it has each of its keys with a value that contains that key's value; an
  array contains another when each element of the other is contained in some element
  of it (order and repeats do not matter, ``[]`` is contained in every array); any other
  value contains only an equal one (``1`` equals ``1.0``; ``true`` is never ``1``);
* ``regex``: a regular expression (Python's ``re``, at most ``MAX_REGEX`` characters)
  found anywhere in the first ``MAX_SEARCHED`` characters of the text content;

and ``isError`` (default ``false``): whether the tool is expected to answer with an error
result. A case expecting ``isError: true`` may leave the other three out.

Bad input raises ``ValidationFailed`` naming the field, e.g. ``cases[2].expect.regex``.
Nothing here does I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpreg.errors import ValidationFailed

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
NAME_RULE = "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"
KINDS: tuple[Kind, ...] = ("exact", "subset", "regex")
MAX_CASES = 100
MAX_CASE_NAME = 200
MAX_TOOL = 128
MAX_DESCRIPTION = 1000
MAX_REGEX = 1000
MAX_SEARCHED = 64 * 1024  # characters of text a regex is searched in
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
MAX_RUN = 300.0  # seconds a whole run may take: connecting and every call
SHOWN = 4096  # characters of an expected or returned value kept per case result

Kind = Literal["exact", "subset", "regex"]
_SET_FIELDS = frozenset({"description", "timeoutSeconds", "cases"})
_CASE_FIELDS = frozenset({"name", "tool", "arguments", "expect"})
_EXPECT_FIELDS = frozenset({*KINDS, "isError"})


@dataclass(frozen=True)
class Expectation:
    """One case's expectation: ``kind`` (None: only ``is_error``) and its value."""

    kind: Kind | None
    value: Any = None
    is_error: bool = False
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {} if self.kind is None else {self.kind: self.value}
        body["isError"] = self.is_error
        return body


@dataclass(frozen=True)
class Case:
    name: str
    tool: str
    arguments: dict[str, Any]
    expect: Expectation

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tool": self.tool,
            "arguments": self.arguments,
            "expect": self.expect.to_dict(),
        }


@dataclass(frozen=True)
class TestSet:
    """A named list of cases for one server."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    cases: tuple[Case, ...]
    description: str = ""
    timeout: float = DEFAULT_TIMEOUT

    def to_dict(self) -> dict[str, Any]:
        """The document as it is stored and answered (defaults written out)."""
        return {
            "description": self.description,
            "timeoutSeconds": self.timeout,
            "cases": [case.to_dict() for case in self.cases],
        }


def check_name(name: object, *, field: str = "testset") -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValidationFailed(f"a test set name is {NAME_RULE}", field=field)
    return name


def _unknown(body: Mapping[str, Any], allowed: frozenset[str], at: str) -> None:
    for key in body:
        if key not in allowed:
            where = f"{at}.{key}" if at else key
            raise ValidationFailed(
                f"unknown field {key!r}; one of {', '.join(sorted(allowed))}",
                field=where,
                code="unknown_field",
            )


def _text(value: object, at: str, *, limit: int, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        rule = (
            f"a non-empty string of at most {limit} characters" if required else f"at most {limit} characters"
        )
        raise ValidationFailed(f"{at} is {rule}", field=at)
    return value


def compile_regex(pattern: object, at: str) -> re.Pattern[str]:
    """``pattern`` compiled, or ``ValidationFailed`` naming ``at``."""
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_REGEX:
        raise ValidationFailed(f"{at} is a regular expression of 1 to {MAX_REGEX} characters", field=at)
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValidationFailed(f"{at} is not a regular expression: {exc}", field=at) from None


def _expectation(body: object, at: str) -> Expectation:
    if not isinstance(body, dict):
        raise ValidationFailed(f"{at} is an object with one of exact, subset or regex", field=at)
    _unknown(body, _EXPECT_FIELDS, at)
    is_error = body.get("isError", False)
    if not isinstance(is_error, bool):
        raise ValidationFailed(f"{at}.isError is true or false", field=f"{at}.isError")
    given = [kind for kind in KINDS if kind in body]
    if len(given) > 1:
        raise ValidationFailed(
            f"{at} holds one of exact, subset or regex, not {' and '.join(given)}", field=at
        )
    if not given:
        if is_error:
            return Expectation(None, is_error=True)
        raise ValidationFailed(f"{at} needs one of exact, subset or regex (or isError: true)", field=at)
    kind = given[0]
    value = body[kind]
    if kind == "regex":
        return Expectation("regex", value, is_error, compile_regex(value, f"{at}.regex"))
    if kind == "subset" and not isinstance(value, dict | list):
        raise ValidationFailed(f"{at}.subset is a JSON object or array", field=f"{at}.subset")
    _finite(value, f"{at}.{kind}")
    return Expectation(kind, value, is_error)


def _finite(value: object, at: str) -> None:
    """JSON from orjson never holds NaN or infinities; a Python caller's might."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{at} holds a number that is not finite", field=at)
    if isinstance(value, dict):
        for item in value.values():
            _finite(item, at)
    elif isinstance(value, list):
        for item in value:
            _finite(item, at)


def _case(body: object, at: str) -> Case:
    if not isinstance(body, dict):
        raise ValidationFailed(f"{at} is an object with a name, a tool and an expect", field=at)
    _unknown(body, _CASE_FIELDS, at)
    name = _text(body.get("name"), f"{at}.name", limit=MAX_CASE_NAME)
    tool = _text(body.get("tool"), f"{at}.tool", limit=MAX_TOOL)
    arguments = body.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ValidationFailed(f"{at}.arguments is a JSON object", field=f"{at}.arguments")
    _finite(arguments, f"{at}.arguments")
    if "expect" not in body:
        raise ValidationFailed(f"{at}.expect is required", field=f"{at}.expect")
    return Case(name, tool, arguments, _expectation(body["expect"], f"{at}.expect"))


def parse_testset(name: str, body: object, *, at: str = "") -> TestSet:
    """The test set ``name`` from its document (``at``: where the document sits, for fields)."""
    check_name(name)
    prefix = f"{at}." if at else ""
    if not isinstance(body, dict):
        raise ValidationFailed("a test set is a JSON object with cases", field=at or "body")
    _unknown(body, _SET_FIELDS, at)
    description = _text(
        body.get("description", ""), f"{prefix}description", limit=MAX_DESCRIPTION, required=False
    )
    timeout = body.get("timeoutSeconds", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or not 0 < timeout <= MAX_TIMEOUT
    ):
        raise ValidationFailed(
            f"{prefix}timeoutSeconds is seconds above 0, at most {MAX_TIMEOUT:g}",
            field=f"{prefix}timeoutSeconds",
        )
    cases = body.get("cases")
    if not isinstance(cases, list) or not 1 <= len(cases) <= MAX_CASES:
        raise ValidationFailed(f"{prefix}cases is a list of 1 to {MAX_CASES} cases", field=f"{prefix}cases")
    parsed = tuple(_case(case, f"{prefix}cases[{i}]") for i, case in enumerate(cases))
    seen: set[str] = set()
    for i, case in enumerate(parsed):
        if case.name in seen:
            raise ValidationFailed(
                f"{prefix}cases[{i}].name {case.name!r} names an earlier case too",
                field=f"{prefix}cases[{i}].name",
            )
        seen.add(case.name)
    return TestSet(name, parsed, description, float(timeout))


def parse_file(body: object) -> list[TestSet]:
    """A ``testsets.json`` published beside a ``server.json``: ``{"testsets": {NAME: SET, ...}}``."""
    if not isinstance(body, dict) or not isinstance(body.get("testsets"), dict):
        raise ValidationFailed(
            'a testsets.json is {"testsets": {"NAME": {"cases": [...]}, ...}}', field="testsets"
        )
    _unknown(body, frozenset({"testsets", "$schema"}), "")
    sets = body["testsets"]
    if not sets:
        raise ValidationFailed("testsets names at least one test set", field="testsets")
    found: list[TestSet] = []
    for name, document in sets.items():
        check_name(name, field=f"testsets.{name}")
        found.append(parse_testset(name, document, at=f"testsets.{name}"))
    return found


# -- matching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolAnswer:
    """What a tool call answered, as plain values."""

    is_error: bool
    text: str  # every text content item, joined by "\n"
    structured: Any = None  # structuredContent; None when the tool gave none

    def as_json(self) -> list[Any]:
        """The JSON values a subset or exact expectation is compared with, in that order."""
        found: list[Any] = [] if self.structured is None else [self.structured]
        parsed = _json_of(self.text)
        if parsed is not _NONE:
            found.append(parsed)
        return found

    def shown(self, secrets: Sequence[str] = ()) -> str:
        """What came back, as JSON cut to ``SHOWN`` characters, each of ``secrets`` masked."""
        body: dict[str, Any] = {"isError": self.is_error, "text": self.text}
        if self.structured is not None:
            body["structuredContent"] = self.structured
        return shorten(json.dumps(masked(body, secrets), ensure_ascii=False, sort_keys=True))


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str = ""  # why not, when not


_NONE = object()


def _json_of(text: str) -> Any:
    if not text.strip():
        return _NONE
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NONE


MASK = "********"


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret value in it masked, as written and as JSON escapes it: an
    upstream may echo what it was sent (a run stores and shows what came back)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, MASK)
    return text


def masked(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` with ``redact`` applied to every string in it (keys included)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, secrets) for v in value]
    return value


def shorten(text: str, limit: int = SHOWN) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def same(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (``1`` is ``1.0``), a boolean never a number."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return _same_scalar(a, b)


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return type(a) is type(b) and a == b


def contains(actual: Any, expected: Any) -> bool:
    """Whether ``actual`` contains ``expected`` (``jsonb @>``, without its top-level rule that
    an array contains a scalar it holds)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(contains(a, e) for a in actual) for e in expected)
    return _same_scalar(actual, expected)


def judge(case: Case, answer: ToolAnswer, secrets: Sequence[str] = ()) -> Verdict:
    """Whether ``answer`` meets ``case``'s expectation, and if not, why not (``secrets``
    masked in the reason)."""

    def _dumped(value: Any) -> str:
        return shorten(json.dumps(masked(value, secrets), ensure_ascii=False, sort_keys=True), 200)

    expect = case.expect
    if answer.is_error != expect.is_error:
        said = shorten(redact(answer.text, secrets), 200)
        if answer.is_error:
            return Verdict(False, f"the tool answered an error (isError true): {said}")
        return Verdict(False, "the tool answered without an error (isError false), an error was expected")
    if expect.kind == "regex":
        assert expect.pattern is not None
        if expect.pattern.search(answer.text[:MAX_SEARCHED]) is None:
            return Verdict(
                False, f"regex {_dumped(expect.value)} not found in the text {_dumped(answer.text)}"
            )
        return Verdict(True)
    if expect.kind == "exact":
        value = expect.value
        if (isinstance(value, str) and answer.text == value) or any(same(v, value) for v in answer.as_json()):
            return Verdict(True)
        got = answer.as_json()
        shown = _dumped(got[0]) if got else _dumped(answer.text)
        return Verdict(False, f"expected exactly {_dumped(value)}, got {shown}")
    if expect.kind == "subset":
        found = answer.as_json()
        if not found:
            return Verdict(
                False, f"expected JSON containing {_dumped(expect.value)}, got text that is not JSON"
            )
        if any(contains(v, expect.value) for v in found):
            return Verdict(True)
        return Verdict(False, f"{_dumped(found[0])} does not contain {_dumped(expect.value)}")
    return Verdict(True)
