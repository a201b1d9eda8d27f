"""Sticky canary assignment.

Every client of a rollout lands in one of ``BUCKETS`` buckets, derived from a
SHA-256 digest of ``(server, environment, rollout_id, client_id)``. The digest is
over a length-prefixed encoding, so no two different tuples share an input
(``("ab", "c")`` and ``("a", "bc")`` do not collide), and it is stable across
processes and Python versions (``hash()`` is salted per process; never use it).

A client is in the canary iff its bucket is below the weight's threshold, so a
client stays in the canary while the weight only grows (monotonic widening), and a
new rollout id reshuffles who goes first.
"""

from __future__ import annotations

import hashlib
import math
from typing import Literal

from mcpreg.errors import ValidationFailed

BUCKETS = 10_000
"""Resolution of canary weights: 0.01 percentage points."""

_DOMAIN = b"mcpreg/canary-bucket/v1\x00"

Track = Literal["stable", "canary"]


def bucket(server: str, environment: str, rollout_id: str, client_id: str) -> int:
    """The client's bucket in ``[0, BUCKETS)`` for this rollout; the same inputs give the same bucket."""
    digest = hashlib.sha256(_DOMAIN)
    for part in (server, environment, rollout_id, client_id):
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(4, "big"))
        digest.update(encoded)
    return int.from_bytes(digest.digest()[:8], "big") % BUCKETS


def threshold(weight: float) -> int:
    """How many buckets a canary weight (a percentage, 0..100) covers, rounded half up.

    ``2.5`` covers 250 buckets. Rounding is monotonic, so a larger weight never
    covers fewer buckets.
    """
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 100:
        raise ValidationFailed("weight must be a percentage between 0 and 100", field="weight")
    return min(BUCKETS, math.floor(weight * BUCKETS / 100 + 0.5))


def in_canary(bucket: int, weight: float) -> bool:
    """Whether a client in ``bucket`` receives the canary at ``weight`` percent."""
    if not 0 <= bucket < BUCKETS:
        raise ValidationFailed(f"bucket must be in [0, {BUCKETS})", field="bucket")
    return bucket < threshold(weight)


def route(server: str, environment: str, rollout_id: str, client_id: str | None, weight: float) -> Track:
    """The track one client gets; a request without a client id (None or empty) gets stable."""
    if not client_id:
        threshold(weight)  # still refuse a weight outside 0..100
        return "stable"
    return "canary" if in_canary(bucket(server, environment, rollout_id, client_id), weight) else "stable"
