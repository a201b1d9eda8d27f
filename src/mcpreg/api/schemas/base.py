"""The two kinds of public model: what ``/api`` answers, and what it reads.

``Answer`` models describe response bodies and build them: a handler answers with
``Model.of(result)``, read from the attributes of what the service returned (a frozen
dataclass or a row), and ``api.http.json_response`` writes it by alias. Every field the
answer always holds is required (no default); a key that is sometimes left out, never
``null``, is ``x: T | Omitted = LeftOut`` (not written when ``None``); a key that is
``null`` when unknown is required and typed ``T | None``. They forbid unknown keys.

``Body`` models describe request bodies; ``Body`` refuses unknown keys (the handler answers
422 ``unknown_field``), ``LenientBody`` takes and ignores them, as those handlers do.
``Query`` models describe query parameters (one field, one parameter).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema


class Answer(BaseModel):
    """A response body: camelCase keys, nothing beyond the fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        from_attributes=True,
    )

    @classmethod
    def of(cls, value: Any) -> Self:
        """The answer built from a service's result: its attributes by field name
        (nested results become nested models), or a dict by key."""
        return cls.model_validate(value, from_attributes=True)


def _is_none(value: object) -> bool:
    return value is None


LeftOut: Any = Field(default=None, exclude_if=_is_none)
"""The default of an answer's key that is left out, not written as ``null``, when ``None``."""


def left_out(description: str) -> Any:
    """``LeftOut`` with a description for the document."""
    return Field(default=None, exclude_if=_is_none, description=description)


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
