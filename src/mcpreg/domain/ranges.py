"""npm's version ranges, exactly: the grammar and matching of node-semver 7.8.5, strict mode.

A range is comparator sets joined by ``||``; a version satisfies the range when it
satisfies every comparator of one set. The sugar desugars as npm does it, text step by
text step (``Range.parseRange`` in node-semver), with npm's own regular expressions:

- hyphen ranges ``1.2.3 - 2.3.4`` -> ``>=1.2.3 <=2.3.4``; a partial end is widened
  (``1.2 - 2`` -> ``>=1.2.0 <3.0.0-0``)
- x-ranges and partial versions ``1.x``, ``1.2.*``, ``1``, ``*``, ``""``, also after an
  operator (``>1.2`` -> ``>=1.3.0``, ``<=1.2`` -> ``<1.3.0-0``)
- tilde ``~1.2.3`` -> ``>=1.2.3 <1.3.0-0``, ``~1`` -> ``>=1.0.0 <2.0.0-0`` (``~>`` too)
- caret ``^1.2.3`` -> ``>=1.2.3 <2.0.0-0``, ``^0.2.3`` -> ``<0.3.0-0``, ``^0.0.3`` -> ``<0.0.4-0``
- primitives ``<``, ``<=``, ``>``, ``>=``, ``=`` and a bare version; build metadata is dropped

Pre-releases. By default a pre-release version satisfies a comparator set only when one
of the set's comparators names a pre-release on the same ``[major, minor, patch]``:
``>=1.2.3-rc.1`` admits ``1.2.3-rc.2`` but not ``1.2.4-rc.1``. With ``include_prerelease``
(npm's ``includePrerelease``) that rule is off, and the lower bounds that sugar writes
start at ``-0`` (``^1.2`` -> ``>=1.2.0-0 <2.0.0-0``), the lowest pre-release there is.

Where this differs from npm, all outside npm's test vectors: there is no loose mode; the
versions tested are mcpreg's SemVer 2.0.0 versions, whose numbers are compared exactly
(npm cannot parse numbers above 2**53 - 1 in a version, and keeps them out of bounds too,
as this module does); and a range is at most ``MAX_RANGE_LENGTH`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER: npm's bound on a number
MAX_BOUND_LENGTH = 256  # npm's MAX_LENGTH of one version
MAX_RANGE_LENGTH = 256  # ours (npm has none): parsing is quadratic in the worst case (~5 ms at 256)

# JavaScript's \s and String.prototype.trim: white space and line terminators. Python's
# \s is another set, and its \d matches every Unicode digit, so neither is used below.
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))  # U+2000..U+200A
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_S = f"[{_JS_SPACE}]"

# node-semver's internal/re.js, as the "safe" regular expressions that Range uses
# (\s* -> \s{0,1}, \d* -> \d{0,256}, [a-zA-Z0-9-]* -> {0,250}); $ is \Z here.
_NUM = "0|[1-9][0-9]{0,256}"
_NUM_LOOSE = "[0-9]{1,256}"
_NON_NUM = "[0-9]{0,256}[a-zA-Z-][a-zA-Z0-9-]{0,250}"
_PRE_ID = f"(?:{_NON_NUM}|{_NUM})"
_PRE_ID_LOOSE = f"(?:{_NON_NUM}|{_NUM_LOOSE})"
_PRE = rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))"
_PRE_LOOSE = rf"(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))"
_BUILD_ID = "[a-zA-Z0-9-]{1,250}"
_BUILD = rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))"
_FULL_PLAIN = rf"v?({_NUM})\.({_NUM})\.({_NUM}){_PRE}?{_BUILD}?"
_LOOSE_PLAIN = rf"[v={_JS_SPACE}]*({_NUM_LOOSE})\.({_NUM_LOOSE})\.({_NUM_LOOSE}){_PRE_LOOSE}?{_BUILD}?"
_GTLT = "((?:<|>)?=?)"
_XR_ID = rf"{_NUM}|x|X|\*"
_XRANGE_PLAIN = rf"[v={_JS_SPACE}]*({_XR_ID})(?:\.({_XR_ID})(?:\.({_XR_ID})(?:{_PRE})?{_BUILD}?)?)?"

_SPACES = re.compile(f"{_S}+")
_BUILD_STRIP = re.compile(r"(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))")
_HYPHEN_RANGE = re.compile(rf"^{_S}?({_XRANGE_PLAIN}){_S}-{_S}({_XRANGE_PLAIN}){_S}?\Z")
_COMPARATOR_TRIM = re.compile(f"({_S}?){_GTLT}{_S}?({_LOOSE_PLAIN}|{_XRANGE_PLAIN})")
_TILDE_TRIM = re.compile(f"({_S}?)(?:~>?){_S}")
_CARET_TRIM = re.compile(rf"({_S}?)\^{_S}")
_TILDE = re.compile(rf"^(?:~>?){_XRANGE_PLAIN}\Z")
_CARET = re.compile(rf"^\^{_XRANGE_PLAIN}\Z")
_XRANGE = re.compile(rf"^{_GTLT}{_S}?{_XRANGE_PLAIN}\Z")
_STAR = re.compile(rf"(<|>)?=?{_S}?\*")
_GTE0 = re.compile(rf"^{_S}?>={_S}?0\.0\.0{_S}?\Z")
_GTE0_PRE = re.compile(rf"^{_S}?>={_S}?0\.0\.0-0{_S}?\Z")
_COMPARATOR = re.compile(rf"^{_GTLT}{_S}?({_FULL_PLAIN})\Z|^\Z")
_NULL_SET = "<0.0.0-0"

Identifier = str | int
# A version's precedence as a tuple: (major, minor, patch, 1 for a release or 0 for a
# pre-release, ((0, number, "") or (1, 0, text) per pre-release identifier)).
Precedence = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


class InvalidRange(ValueError):
    """The text is not a range in npm's strict grammar; the message says which part."""


class SemVerLike(Protocol):
    """What a range tests: mcpreg's ``Version`` has these, with numeric identifiers as int."""

    @property
    def major(self) -> int: ...
    @property
    def minor(self) -> int: ...
    @property
    def patch(self) -> int: ...
    @property
    def prerelease(self) -> tuple[Identifier, ...]: ...


def precedence(version: SemVerLike) -> Precedence:
    """SemVer section 11 order: numbers numerically, numbers below words, longer above prefix."""
    ids = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in version.prerelease)
    return (version.major, version.minor, version.patch, 0 if ids else 1, ids)


@dataclass(frozen=True)
class Bound:
    """The version a comparator compares with (npm's ``SemVer`` inside a ``Comparator``)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...]

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return core + ("-" + ".".join(map(str, self.prerelease)) if self.prerelease else "")


@dataclass(frozen=True)
class Comparator:
    """One primitive comparison; ``bound`` None is npm's ANY (the empty comparator)."""

    operator: str  # "", "<", "<=", ">", ">="
    bound: Bound | None
    key: Precedence | None

    @property
    def value(self) -> str:
        return "" if self.bound is None else self.operator + str(self.bound)

    def admits(self, key: Precedence) -> bool:
        if self.key is None:
            return True
        if self.operator == "":
            return key == self.key
        if self.operator == "<":
            return key < self.key
        if self.operator == "<=":
            return key <= self.key
        if self.operator == ">":
            return key > self.key
        return key >= self.key


@dataclass(frozen=True)
class Range:
    """A parsed range: sets of comparators, OR of AND."""

    sets: tuple[tuple[Comparator, ...], ...]
    include_prerelease: bool

    def test(self, version: SemVerLike) -> bool:
        """Whether the version satisfies the range (npm's ``Range.test``)."""
        key = precedence(version)
        gated = bool(version.prerelease) and not self.include_prerelease
        return any(
            all(c.admits(key) for c in comparators)
            and (not gated or _names_prerelease_of(comparators, version))
            for comparators in self.sets
        )

    def __str__(self) -> str:
        """npm's normalised form (``Range.range``): ``>=1.2.3 <2.0.0-0||>=3.0.0``."""
        return "||".join(" ".join(c.value for c in comparators) for comparators in self.sets)


def _names_prerelease_of(comparators: tuple[Comparator, ...], version: SemVerLike) -> bool:
    """npm's default rule: some comparator names a pre-release of the version's major.minor.patch."""
    core = (version.major, version.minor, version.patch)
    return any(
        c.bound is not None and c.bound.prerelease and (c.bound.major, c.bound.minor, c.bound.patch) == core
        for c in comparators
    )


def is_range(text: str) -> bool:
    try:
        parse_range(text)
    except InvalidRange:
        return False
    return True


@lru_cache(maxsize=1024)
def parse_range(text: str, include_prerelease: bool = False) -> Range:
    """Parse an npm range (strict mode) or raise ``InvalidRange``; the empty range is ``*``."""
    if len(text) > MAX_RANGE_LENGTH:
        raise InvalidRange(f"a range is at most {MAX_RANGE_LENGTH} characters")
    raw = _SPACES.sub(" ", _trim(text))
    sets: list[tuple[Comparator, ...]] = [
        s for s in (_parse_set(_trim(part), include_prerelease) for part in raw.split("||")) if s
    ]
    if not sets:
        raise InvalidRange("a range needs at least one comparator")
    if len(sets) > 1:
        # npm drops the sets nothing satisfies (unless all are such), then, when one set
        # is just *, keeps only that one
        sets = [s for s in sets if s[0].value != _NULL_SET] or sets[:1]
        anything: list[tuple[Comparator, ...]] = [s for s in sets if len(s) == 1 and s[0].bound is None]
        if len(sets) > 1 and anything:
            sets = anything[:1]
    return Range(tuple(sets), include_prerelease)


def _trim(text: str) -> str:
    return text.strip(_JS_SPACE)


def _parse_set(text: str, include_prerelease: bool) -> tuple[Comparator, ...]:
    text = _BUILD_STRIP.sub("", text)
    text = _HYPHEN_RANGE.sub(_hyphen_replace(include_prerelease), text, count=1)
    text = _COMPARATOR_TRIM.sub(lambda m: _g(m, 1) + _g(m, 2) + _g(m, 3), text)
    text = _TILDE_TRIM.sub(lambda m: _g(m, 1) + "~", text)
    text = _CARET_TRIM.sub(lambda m: _g(m, 1) + "^", text)
    desugared = " ".join(_parse_comparator(part, include_prerelease) for part in text.split(" "))
    gte0 = _GTE0_PRE if include_prerelease else _GTE0
    comparators = [_comparator(gte0.sub("", _trim(part), count=1)) for part in _SPACES.split(desugared)]
    by_value: dict[str, Comparator] = {}
    for comparator in comparators:
        if comparator.value == _NULL_SET:
            return (comparator,)
        by_value[comparator.value] = comparator
    if len(by_value) > 1:
        by_value.pop("", None)
    return tuple(by_value.values())


def _g(match: re.Match[str], group: int) -> str:
    """A group as JavaScript's replace sees it: a group that did not take part is ''."""
    return match.group(group) or ""


def _is_x(identifier: str | None) -> bool:
    return not identifier or identifier.lower() == "x" or identifier == "*"


def _parse_comparator(text: str, include_prerelease: bool) -> str:
    text = _BUILD_STRIP.sub("", text, count=1)
    text = _each(text.strip(_JS_SPACE), lambda part: _replace_caret(part, include_prerelease))
    text = _each(text.strip(_JS_SPACE), lambda part: _replace_tilde(part, include_prerelease))
    text = _each(text, lambda part: _replace_xrange(part.strip(_JS_SPACE), include_prerelease))
    return _STAR.sub("", text.strip(_JS_SPACE), count=1)


def _each(text: str, replace: Callable[[str], str]) -> str:
    return " ".join(replace(part) for part in _SPACES.split(text))


def _replace_tilde(text: str, include_prerelease: bool) -> str:
    match = _TILDE.match(text)
    if match is None:
        return text
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if include_prerelease else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        return f">={major}.{minor}.0{z} <{major}.{int(minor) + 1}.0-0"
    if pre:
        return f">={major}.{minor}.{patch}-{pre} <{major}.{int(minor) + 1}.0-0"
    return f">={major}.{minor}.{patch} <{major}.{int(minor) + 1}.0-0"


def _replace_caret(text: str, include_prerelease: bool) -> str:
    match = _CARET.match(text)
    if match is None:
        return text
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if include_prerelease else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        if major == "0":
            return f">={major}.{minor}.0{z} <{major}.{int(minor) + 1}.0-0"
        return f">={major}.{minor}.0{z} <{int(major) + 1}.0.0-0"
    lower = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    if major == "0" and minor == "0":
        return f"{lower} <{major}.{minor}.{int(patch) + 1}-0"
    if major == "0":
        return f"{lower} <{major}.{int(minor) + 1}.0-0"
    return f"{lower} <{int(major) + 1}.0.0-0"


def _replace_xrange(text: str, include_prerelease: bool) -> str:
    match = _XRANGE.match(text)
    if match is None:
        return text
    gtlt, major, minor, patch = match.group(1, 2, 3, 4)
    if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
        return text  # npm's invalidXRangeOrder: 1.x.3, x.2 stay as they are (and fail later)
    x_major = _is_x(major)
    x_minor = x_major or _is_x(minor)
    any_x = x_minor or _is_x(patch)
    if gtlt == "=" and any_x:
        gtlt = ""
    pr = "-0" if include_prerelease else ""
    if x_major:
        return "<0.0.0-0" if gtlt in (">", "<") else "*"
    if gtlt and any_x:
        m, p = (0 if x_minor else int(minor)), 0
        big = int(major)
        if gtlt == ">":
            gtlt = ">="
            if x_minor:
                big, m = big + 1, 0
            else:
                m += 1
        elif gtlt == "<=":
            gtlt = "<"
            if x_minor:
                big += 1
            else:
                m += 1
        if gtlt == "<":
            pr = "-0"
        return f"{gtlt}{big}.{m}.{p}{pr}"
    if x_minor:
        return f">={major}.0.0{pr} <{int(major) + 1}.0.0-0"
    if any_x:
        return f">={major}.{minor}.0{pr} <{major}.{int(minor) + 1}.0-0"
    return text


def _hyphen_replace(include_prerelease: bool) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        start, f_major, f_minor, f_patch, f_pre = match.group(1, 2, 3, 4, 5)
        end, t_major, t_minor, t_patch, t_pre = match.group(7, 8, 9, 10, 11)
        z = "-0" if include_prerelease else ""
        if _is_x(f_major):
            lower = ""
        elif _is_x(f_minor):
            lower = f">={f_major}.0.0{z}"
        elif _is_x(f_patch):
            lower = f">={f_major}.{f_minor}.0{z}"
        elif f_pre:
            lower = f">={start}"
        else:
            lower = f">={start}{z}"
        if _is_x(t_major):
            upper = ""
        elif _is_x(t_minor):
            upper = f"<{int(t_major) + 1}.0.0-0"
        elif _is_x(t_patch):
            upper = f"<{t_major}.{int(t_minor) + 1}.0-0"
        elif t_pre:
            upper = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
        elif include_prerelease:
            upper = f"<{t_major}.{t_minor}.{int(t_patch) + 1}-0"
        else:
            upper = f"<={end}"
        return f"{lower} {upper}".strip(_JS_SPACE)

    return replace


def _comparator(text: str) -> Comparator:
    text = " ".join(_SPACES.split(_trim(text)))
    match = _COMPARATOR.match(text)
    if match is None:
        raise InvalidRange(f"{text!r} is not a comparator (an operator <, <=, >, >= or = and a version)")
    operator = _g(match, 1)
    if operator == "=":
        operator = ""
    if not match.group(2):
        return Comparator("", None, None)
    bound = _bound(match)
    return Comparator(operator, bound, precedence(bound))


def _bound(match: re.Match[str]) -> Bound:
    """npm's ``new SemVer`` of a comparator's version: at most 256 characters, numbers below 2**53."""
    if len(match.group(2)) > MAX_BOUND_LENGTH:
        raise InvalidRange(f"a version in a range is at most {MAX_BOUND_LENGTH} characters")
    numbers = [int(n) for n in match.group(3, 4, 5)]
    if any(n > MAX_SAFE_INTEGER for n in numbers):
        raise InvalidRange(f"numbers in a range are at most {MAX_SAFE_INTEGER} (2**53 - 1), as in npm")
    pre = match.group(6)
    ids = tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()
    return Bound(numbers[0], numbers[1], numbers[2], ids)
