"""One assertion for RFC 9457 problem+json answers: status, code and (optionally) field."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """Assert ``response`` is the problem ``code`` with ``status`` (naming ``field``); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(code) and body["title"] and body["detail"], body
    assert body["error"] == body["detail"], body
    if field is not None:
        assert body["field"] == field, body
    return body
