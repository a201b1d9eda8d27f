"""What a value must be for both databases to hold it: checked at the request boundary.

PostgreSQL refuses a NUL character in text (SQLite would store it), a row id is a
64-bit signed integer on both, and a time must convert to UTC inside years 1 to 9999
(Python's range, well inside PostgreSQL's ``timestamptz``; SQLite stores the text).
A JSON document is stored and answered as JSON again, so it nests at most ``MAX_DEPTH``
levels (orjson writes 254 at most; responses wrap a document in a few more).
A value outside these is bad input, refused by name, never a database error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mcpreg.domain.pointer import escape_token
from mcpreg.domain.timestamps import read_rfc3339
from mcpreg.errors import ValidationFailed

MAX_ROW_ID = 2**63 - 1
MAX_DEPTH = 64
NUL = "\x00"


def row_id(text: str) -> int | None:
    """``text`` as a row id (ASCII digits, 1 to ``MAX_ROW_ID``), or None.

    ``int`` alone would take ``"٣"``, ``"1_0"`` and ``" 5"``, and ``str.isdigit`` says
    yes to ``"²"``, which ``int`` then refuses.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def id_cursor(raw: str, *, field: str = "cursor") -> int:
    """A page cursor that is a row id (the journal's, the deployment history's)."""
    value = row_id(raw)
    if value is None:
        raise ValidationFailed(
            f"{field} must be the exact value of a previous nextCursor", field=field, code="invalid_cursor"
        )
    return value


def storable_time(value: datetime, *, field: str) -> datetime:
    """``value`` (time-zone aware) if it converts to UTC inside years 1 to 9999."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(
            f"{field} must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z", field=field
        ) from None
    return value


def parse_time(raw: object, *, field: str) -> datetime:
    """An RFC 3339 date-time with a time zone that the databases can store."""
    if not isinstance(raw, str):
        raise ValidationFailed(f"{field} must be an RFC 3339 date-time", field=field)
    value = read_rfc3339(raw)
    if value is None:
        raise ValidationFailed(f"{field} must be an RFC 3339 date-time", field=field)
    if value.tzinfo is None:
        raise ValidationFailed(f"{field} needs a time zone (e.g. Z)", field=field)
    return storable_time(value, field=field)


def nul_pointer(value: Any) -> str | None:
    """The JSON pointer of the first string (key or value) in ``value`` holding a NUL, or None.

    Walked with a stack, not recursion: orjson parses nesting deeper than Python recurses.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return pointer
        elif isinstance(node, dict):
            children = []
            for key, item in node.items():
                here = f"{pointer}/{escape_token(key)}"
                if NUL in key:
                    return here
                children.append((here, item))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(f"{pointer}/{i}", item) for i, item in enumerate(node)]))
    return None


def too_deep_pointer(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The JSON pointer of the first array or object nested deeper than ``limit``, or None."""
    stack: list[tuple[str, Any, int]] = [("", value, 1)]
    while stack:
        pointer, node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > limit:
            return pointer
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend(
            reversed([(f"{pointer}/{escape_token(str(key))}", item, depth + 1) for key, item in items])
        )
    return None


def refuse_too_deep(pointer: str) -> ValidationFailed:
    """The error for a body nested deeper than ``MAX_DEPTH``, naming where it passes the limit."""
    return ValidationFailed(
        f"the body nests arrays and objects more than {MAX_DEPTH} levels deep", field=pointer, code="too_deep"
    )


def refuse_nul(field: str) -> ValidationFailed:
    """The error for a NUL character in ``field`` (a JSON pointer or a parameter name)."""
    return ValidationFailed(
        f"{field or 'the body'} contains a NUL character (U+0000), which the registry does not store",
        field=field or "body",
        code="nul_character",
    )
