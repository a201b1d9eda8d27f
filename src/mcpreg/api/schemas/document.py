"""The OpenAPI document itself (``GET /api/openapi.json``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mcpreg.api.schemas.operations import Operation


class OpenAPIDocument(BaseModel):
    """An OpenAPI 3.1 document (this one); its members are OpenAPI's own."""

    model_config = ConfigDict(extra="allow")

    openapi: Literal["3.1.0"]
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


OPERATIONS = (
    Operation(
        "GET",
        "/api/openapi.json",
        "This document: every /api operation, its parameters, bodies, answers and error codes",
        "meta",
        answer=OpenAPIDocument,
    ),
)
