"""Semantic versions (SemVer 2.0.0 only), their precedence, and npm's ranges over them.

Precedence follows section 11 of the SemVer spec. ``sort_key`` turns a version into
a string whose plain byte order *is* that precedence, so the database can sort and
index versions without ever comparing them as strings of digits. The range grammar
and its pre-release rules are npm's, in ``mcpreg.domain.ranges``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

import semver

from mcpreg.domain.ranges import InvalidRange, Range, is_range, parse_range
from mcpreg.errors import ValidationFailed

MAX_VERSION_LENGTH = 255
_NUMBER_DIGITS_MAX = 99
# Separators below every identifier character ('-' is 0x2D) keep prefix order right.
_END = "!"
_SEP = "#"
_STABLE = "~"


@total_ordering
@dataclass(frozen=True)
class Version:
    """A parsed SemVer 2.0.0 version. Equality and order ignore build metadata."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...]
    build: str | None
    text: str

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def precedence_text(self) -> str:
        """The version without build metadata: what must be unique per server."""
        return self.text.split("+", 1)[0]

    @property
    def key(self) -> str:
        return sort_key(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.key == other.key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text


def _hint(text: str) -> str:
    stripped = text.strip()
    if stripped != text:
        return "remove the surrounding white space"
    if re.fullmatch(r"[vV]\d.*", text):
        return "drop the leading v"
    if re.fullmatch(r"\d+", text):
        return f"write it in full, e.g. {text}.0.0"
    if re.fullmatch(r"\d+\.\d+", text):
        return f"write it in full, e.g. {text}.0"
    if is_range(text) or text == "latest":
        return "a release needs one exact version, not a range or tag"
    if re.search(r"(^|\.)0\d", text.split("-", 1)[0].split("+", 1)[0]):
        return "numbers must not have leading zeros"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+.*", text):
        return "SemVer has exactly three numbers: MAJOR.MINOR.PATCH"
    return "use MAJOR.MINOR.PATCH with an optional -prerelease and +build, e.g. 1.4.0-rc.1"


def try_parse_version(text: str) -> Version | None:
    """The parsed version, or None for anything that is not one (a tag, a range, garbage).

    Cheaper than catching ``parse_version``'s error: no hint is worked out.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_VERSION_LENGTH:
        return None
    try:
        parsed = semver.Version.parse(text)
    except (ValueError, TypeError):
        return None
    return _built(parsed, text)


def parse_version(text: str, *, field: str = "version") -> Version:
    """Parse a SemVer 2.0.0 string or raise ``ValidationFailed`` with a hint."""
    if not isinstance(text, str) or not text:
        raise ValidationFailed("a version is required", field=field, code="invalid_version")
    if len(text) > MAX_VERSION_LENGTH:
        raise ValidationFailed(
            f"a version is at most {MAX_VERSION_LENGTH} characters", field=field, code="invalid_version"
        )
    try:
        parsed = semver.Version.parse(text)
    except (ValueError, TypeError):
        raise ValidationFailed(
            f"{text!r} is not a SemVer 2.0.0 version: {_hint(text)}", field=field, code="invalid_version"
        ) from None
    version = _built(parsed, text)
    if version is None:
        raise ValidationFailed(
            f"numbers in a version are at most {_NUMBER_DIGITS_MAX} digits",
            field=field,
            code="invalid_version",
        )
    return version


def _built(parsed: semver.Version, text: str) -> Version | None:
    """Our ``Version`` of a parsed one; None when a number has too many digits."""
    prerelease: tuple[str | int, ...] = ()
    if parsed.prerelease:
        prerelease = tuple(int(p) if p.isdigit() else p for p in parsed.prerelease.split("."))
    numbers = [parsed.major, parsed.minor, parsed.patch, *(p for p in prerelease if isinstance(p, int))]
    if any(len(str(n)) > _NUMBER_DIGITS_MAX for n in numbers):
        return None
    return Version(parsed.major, parsed.minor, parsed.patch, prerelease, parsed.build, text)


def _number(n: int) -> str:
    digits = str(n)
    return f"{len(digits):02d}{digits}"


def sort_key(version: Version) -> str:
    """A string whose byte order equals SemVer precedence (compare with collation "C")."""
    core = _number(version.major) + _number(version.minor) + _number(version.patch)
    if not version.prerelease:
        return core + _STABLE
    parts = [("0" + _number(p)) if isinstance(p, int) else ("1" + p) for p in version.prerelease]
    return core + _SEP + _SEP.join(parts) + _END


def check_range(text: str, *, field: str = "range") -> str:
    """Validate an npm range and return its normalised form (npm's ``validRange``).

    npm reads the empty range as ``*``, but a query parameter that is empty cannot be
    told from a missing one, so an empty range is refused here as missing: write ``*``.
    """
    if not text:
        raise ValidationFailed(
            "a range is required, e.g. ^1.2.0, ~1.4, >=1.0.0 <2.0.0 (* for any version)",
            field=field,
            code="invalid_range",
        )
    return str(_parsed_range(text, prerelease=False, field=field))


def _parsed_range(text: str, *, prerelease: bool, field: str = "range") -> Range:
    try:
        return parse_range(text, prerelease)
    except InvalidRange as error:
        shown = repr(text) if len(text) <= 80 else "the range"
        raise ValidationFailed(
            f"{shown} is not an npm version range: {error} (e.g. ^1.2.0, ~1.4, >=1.0.0 <2.0.0)",
            field=field,
            code="invalid_range",
        ) from None


def max_satisfying(
    versions: Iterable[Version], range_text: str, *, prerelease: bool = False
) -> Version | None:
    """The highest version inside the range, by npm's rules (``semver.maxSatisfying``).

    Without ``prerelease`` a pre-release counts only where the range names a pre-release
    of the same major.minor.patch (``>=1.1.0-rc.1 <1.1.0`` finds ``1.1.0-rc.10``); with it,
    npm's ``includePrerelease``: every pre-release inside the bounds counts.
    """
    parsed = _parsed_range(range_text, prerelease=prerelease)
    best: Version | None = None
    for version in versions:
        if (best is None or version > best) and parsed.test(version):
            best = version
    return best


_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
LATEST = "latest"


def check_channel_name(name: str, *, field: str = "channel") -> str:
    """A channel (dist-tag) name: lower-case word that is neither a version nor a range."""
    if not _CHANNEL_RE.fullmatch(name or ""):
        raise ValidationFailed(
            "a channel name is 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter",
            field=field,
            code="invalid_channel",
        )
    looks_like_version = True
    try:
        semver.Version.parse(name.lstrip("v"))
    except ValueError:
        looks_like_version = False
    if looks_like_version or is_range(name):
        raise ValidationFailed(
            f"{name!r} parses as a version or range and cannot name a channel",
            field=field,
            code="invalid_channel",
        )
    return name
