"""The two kinds of public model: what ``/api`` answers, and what it reads.

``Answer`` models describe response bodies: every field the service always writes is
required (no default); a key that is sometimes left out has a default of ``None`` and is
left out of the required list. They forbid unknown keys, so a key added to a service's
view without its model makes the sample-response test fail.

``Body`` models describe request bodies; ``Body`` refuses unknown keys (the handler answers
422 ``unknown_field``), ``LenientBody`` takes and ignores them, as those handlers do.
``Query`` models describe query parameters (one field, one parameter).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema


class Answer(BaseModel):
    """A response body: camelCase keys, nothing beyond the fields."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="forbid"
    )


class Body(BaseModel):
    """A request body that refuses unknown keys (422 ``unknown_field``)."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="forbid"
    )


class LenientBody(BaseModel):
    """A request body whose handler ignores keys it does not read."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="allow"
    )


class Query(BaseModel):
    """Query parameters, one field each, spelled as the handler reads them (no camelCase)."""

    model_config = ConfigDict(extra="forbid")


Omitted = SkipJsonSchema[None]
"""For an optional request key that may be left out but is never ``null``: ``x: int | Omitted = None``
documents ``x`` as an integer, not required (``api.openapi`` drops the ``null`` default)."""
