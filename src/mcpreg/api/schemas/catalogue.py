"""Every described ``/api`` operation, gathered from the concept modules.

A new ``/api`` route is described by an ``Operation`` in the ``OPERATIONS`` of its concept's
module here (or of a new module, added to ``CONCEPTS``); ``tests/api/test_openapi.py`` fails
for a route of the table that no operation describes, and for an operation with no route.
"""

from __future__ import annotations

from mcpreg.api.schemas import (
    alerts,
    analysis,
    changes,
    configuration,
    curation,
    deployments,
    document,
    environments,
    gates,
    health,
    history,
    rate_limits,
    releases,
    testsets,
    tokens,
    traffic,
    upstreams,
)
from mcpreg.api.schemas.operations import Operation

CONCEPTS = (
    releases,
    configuration,
    environments,
    deployments,
    history,
    tokens,
    changes,
    document,
    curation,
    traffic,
    rate_limits,
    upstreams,
    health,
    analysis,
    gates,
    testsets,
    alerts,
)

OPERATIONS: dict[tuple[str, str], Operation] = {
    operation.key: operation for concept in CONCEPTS for operation in concept.OPERATIONS
}
