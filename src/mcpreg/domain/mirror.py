"""Pure rules of the subregistry: which names an upstream covers, how an upstream version
is ordered, and how an upstream's RFC 3339 times are read.

The official registry accepts any version that is not a range. Its order (``CompareVersions``
in its ``internal/service/versioning.go``): two SemVer versions by SemVer precedence, a
SemVer version above every other one, and two non-SemVer versions by publication time.
``mirror_key`` writes that order into a precedence key that sorts with the SemVer keys of
``mcpreg.domain.versions``: SemVer keys start with a digit, the others with ``NON_SEMVER``
(below every digit), then the publication time, then the version text (unique per server).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

from mcpreg.domain.timestamps import read_rfc3339
from mcpreg.domain.versions import MAX_VERSION_LENGTH, try_parse_version

NON_SEMVER = "!"
_ZERO = timedelta(0)
_FRACTION = re.compile(r"(\.\d{6})\d+")
_PATTERN = re.compile(r"^[A-Za-z0-9.*?_/-]{1,200}$")


@dataclass(frozen=True)
class MirrorVersion:
    """An upstream version as stored: its text, precedence key and flags."""

    text: str
    key: str
    semver: bool
    # Non-SemVer versions count as pre-releases for ``latest``, so that any SemVer version
    # (a pre-release included) wins over them, as it does upstream.
    is_prerelease: bool


def mirror_version(text: str, published_at: datetime) -> MirrorVersion | None:
    """The stored form of an upstream version; None when it is no storable version at all."""
    if not text or len(text) > MAX_VERSION_LENGTH or text != text.strip():
        return None
    parsed = try_parse_version(text)
    if parsed is not None:
        return MirrorVersion(text, parsed.key, True, parsed.is_prerelease)
    stamp = published_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return MirrorVersion(text, f"{NON_SEMVER}{stamp}#{text}", False, True)


def is_non_semver_key(key: str) -> bool:
    return key.startswith(NON_SEMVER)


def read_upstream_time(text: object) -> datetime | None:
    """An upstream RFC 3339 time (Go writes up to nine fraction digits), as aware UTC."""
    if not isinstance(text, str) or not text:
        return None
    value = read_rfc3339(text) or read_rfc3339(_FRACTION.sub(r"\1", text))  # microseconds at most
    if value is None or value.tzinfo is None:
        return None
    return value if value.utcoffset() == _ZERO and value.tzinfo is UTC else value.astimezone(UTC)


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is no namespace pattern, or None when it is one."""
    if not _PATTERN.fullmatch(pattern):
        return "a pattern is 1-200 characters of letters, digits, '.', '-', '_', '/', '*' and '?'"
    return None


@dataclass(frozen=True)
class Coverage:
    """The names an upstream is mirrored for: any include pattern and no exclude pattern.

    A pattern is matched (``fnmatch``, case-sensitive) against the whole server name and
    against its namespace (what comes before the ``/``): ``io.github.*`` covers
    ``io.github.acme/tool``. No include pattern means every name.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def covers(self, server_name: str) -> bool:
        namespace = server_name.split("/", 1)[0]

        def hit(pattern: str) -> bool:
            return fnmatchcase(server_name, pattern) or fnmatchcase(namespace, pattern)

        if self.include and not any(hit(p) for p in self.include):
            return False
        return not any(hit(p) for p in self.exclude)


def split_patterns(text: str) -> tuple[str, ...]:
    """Patterns stored one per line (or given comma-separated) as a tuple, blanks dropped."""
    return tuple(p.strip() for p in re.split(r"[\n,]", text) if p.strip())


_DURATION = re.compile(r"^(\d{1,6})([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 10
MAX_INTERVAL = 7 * 86400


def parse_interval(text: str) -> int | None:
    """``10m``, ``90s``, ``1h``, ``600`` as seconds; None when not a duration in range."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    return seconds if MIN_INTERVAL <= seconds <= MAX_INTERVAL else None
