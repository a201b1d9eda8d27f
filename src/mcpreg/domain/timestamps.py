"""RFC 3339 timestamps as the registry writes and reads them.

Written: ``datetime.isoformat`` with UTC as ``Z`` (``2025-08-07T13:15:04.280000Z``);
the databases hand back UTC, so every stored time is written that way. Read: what
``datetime.fromisoformat`` takes once a ``Z`` is read as ``+00:00``; whether a time zone
is required and what range is storable is the caller's rule (``storable.parse_time``).
"""

from __future__ import annotations

from datetime import datetime
from typing import overload


@overload
def rfc3339(value: datetime) -> str: ...
@overload
def rfc3339(value: None) -> None: ...
@overload
def rfc3339(value: datetime | None) -> str | None: ...
def rfc3339(value: datetime | None) -> str | None:
    """``value`` as RFC 3339 text, ``+00:00`` written ``Z``; None stays None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def read_rfc3339(text: str) -> datetime | None:
    """The moment ``text`` names (aware when it has a zone, naive without), or None."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
