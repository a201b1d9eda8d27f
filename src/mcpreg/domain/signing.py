"""Webhook signatures: HMAC-SHA256 over ``f"{t}." + body`` under a per-webhook secret.

A signed request carries ``X-Mcpreg-Signature: t=<unix seconds>,v1=<hex digest>``, where the
digest is ``HMAC-SHA256(secret, f"{t}.".encode() + body)``. Binding the timestamp into the
digest lets a receiver refuse a replayed delivery: :func:`verify` accepts a signature only
when its timestamp is within ``tolerance`` seconds of ``now``. Several ``v1=`` entries may be
given (a sender rotating its secret signs with both); one match is enough.

Pure: no clock, no I/O. The caller passes ``now``.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"
DEFAULT_TOLERANCE = 300.0  # seconds


def digest(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}." + body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Mcpreg-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SCHEME}={digest(secret, timestamp, body)}"


def parse(header: str) -> tuple[int | None, list[str]]:
    """The timestamp and every ``v1`` digest of a signature header (None if no valid ``t``)."""
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return None, []
        elif key == SCHEME:
            digests.append(value.strip().lower())
    return timestamp, digests


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """True when ``header`` signs ``body`` under ``secret`` within ``tolerance`` of ``now``."""
    timestamp, digests = parse(header)
    if timestamp is None or not digests:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, d) for d in digests)
