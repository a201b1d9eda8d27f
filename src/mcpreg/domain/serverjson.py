"""Validation of server.json documents: the official schema plus the official registry's rules.

Two layers, reported together:

* **schema** (rules named after the JSON Schema keyword: ``type``, ``required``,
  ``minLength``, ``maxLength``, ``pattern``, ``enum``, ``not``, ``anyOf``): the Pydantic
  models of :mod:`mcpreg.domain.serverjson_models`, which agree with the official
  ``server.schema.json`` (proven by the tests, never read at run time);
* **registry** (kebab-case rule names, see :mod:`mcpreg.domain.serverjson_rules`): the
  checks the official registry makes beyond the schema and that do not depend on who
  publishes (name format, no version ranges, URL rules, argument hygiene).

Each violation is a ``{"field", "rule", "message"}`` dict where ``field`` is a JSON
pointer into the document. Messages never repeat the offending value (it may be secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mcpreg.domain.pointer import to_pointer, tokens
from mcpreg.domain.serverjson_models import ServerDetail
from mcpreg.domain.serverjson_rules import Violation, registry_violations
from mcpreg.errors import ValidationFailed

__all__ = [
    "SCHEMA_RULES",
    "ServerDetail",
    "Violation",
    "validate_server_json",
    "validation_errors",
]

SCHEMA_RULES = frozenset({"type", "required", "minLength", "maxLength", "pattern", "enum", "not", "anyOf"})
"""Rule names that come from the official JSON schema; every other rule is a registry rule."""

# Paths (ints as "#") after which Pydantic inserts the tag of a tagged union into ``loc``.
_UNION_PATHS = frozenset(
    {
        ("packages", "#", "transport"),
        ("packages", "#", "packageArguments", "#"),
        ("packages", "#", "runtimeArguments", "#"),
        ("remotes", "#"),
    }
)

_TYPE_NAMES = {
    "string_type": "a string",
    "string_unicode": "a valid Unicode string",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def validate_server_json(doc: object, *, private_remotes: bool = False) -> ServerDetail:
    """Validate ``doc`` (parsed JSON) and return its model.

    Raises ``ValidationFailed`` whose ``field`` points at the first violation and whose
    ``extra["errors"]`` lists every violation. ``private_remotes``: see ``registry_violations``.
    """
    model, violations = _check(doc, private_remotes)
    if violations or model is None:
        raise _failure(violations)
    return model


def validation_errors(doc: object, *, private_remotes: bool = False) -> list[dict[str, str]]:
    """Every violation of ``doc`` as ``{"field", "rule", "message"}``; empty when valid."""
    return [violation.as_dict() for violation in _check(doc, private_remotes)[1]]


def _check(doc: object, private_remotes: bool = False) -> tuple[ServerDetail | None, list[Violation]]:
    model: ServerDetail | None = None
    violations: list[Violation] = []
    try:
        model = ServerDetail.model_validate(doc)
    except ValidationError as exc:
        violations.extend(_schema_violation(error, doc) for error in exc.errors(include_url=False))
    violations.extend(registry_violations(doc, private_remotes=private_remotes))
    violations.sort(key=lambda violation: _position(doc, violation.field))
    return model, violations


def _failure(violations: Sequence[Violation]) -> ValidationFailed:
    first = violations[0]
    detail = f"{first.field or 'document'}: {first.message}"
    if len(violations) > 1:
        more = len(violations) - 1
        detail += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ValidationFailed(
        detail,
        field=first.field,
        extra={"errors": [violation.as_dict() for violation in violations]},
    )


def _schema_violation(error: ErrorDetails, doc: object) -> Violation:
    path = _document_path(error["loc"])
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return _union_violation(path, _lookup(doc, path), ctx)
    field = to_pointer(path)
    if kind == "missing":
        return Violation(field, "required", "is required")
    if kind == "null":
        return Violation(field, "type", "must not be null")
    if kind in _TYPE_NAMES:
        return Violation(field, "type", f"must be {_TYPE_NAMES[kind]}")
    if kind == "string_too_short":
        count = ctx["min_length"]
        return Violation(field, "minLength", f"must be at least {count} character{'s' if count != 1 else ''}")
    if kind == "string_too_long":
        return Violation(field, "maxLength", f"must be at most {ctx['max_length']} characters")
    if kind == "string_pattern_mismatch":
        return Violation(field, "pattern", f"must match pattern {ctx['pattern']}")
    if kind == "literal_error":
        return Violation(field, "enum", f"must be one of {ctx['expected']}")
    if kind in ("not", "anyOf"):
        return Violation(field, kind, error["msg"])
    return Violation(field, "invalid", error["msg"])


def _union_violation(path: list[str | int], value: object, ctx: dict[str, Any]) -> Violation:
    """A tagged union failed on its ``type`` key: say what is wrong with that key."""
    field = to_pointer(path)
    if not isinstance(value, dict):
        return Violation(field, "type", "must be an object")
    if "type" not in value:
        return Violation(f"{field}/type", "required", "is required")
    if not isinstance(value["type"], str):
        return Violation(f"{field}/type", "type", "must be a string")
    return Violation(f"{field}/type", "enum", f"must be one of {ctx.get('expected_tags', '')}".rstrip())


def _document_path(loc: Sequence[str | int]) -> list[str | int]:
    """Pydantic's ``loc`` without the union tags it inserts, i.e. a path into the document."""
    path: list[str | int] = []
    shape: list[str] = []
    skip_tag = False
    for item in loc:
        if skip_tag:
            skip_tag = False
            continue
        path.append(item)
        shape.append("#" if isinstance(item, int) else item)
        skip_tag = tuple(shape) in _UNION_PATHS
    return path


def _lookup(doc: object, path: Sequence[str | int]) -> object:
    node = doc
    for item in path:
        if isinstance(node, dict) and isinstance(item, str):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            return None
    return node


def _position(doc: object, pointer: str) -> tuple[int, ...]:
    """Where ``pointer`` sits in document order (a missing key sorts after its siblings)."""
    position: list[int] = []
    node = doc
    for key in tokens(pointer):
        if isinstance(node, dict):
            keys = list(node)
            position.append(keys.index(key) if key in node else len(keys))
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            position.append(int(key))
            node = node[int(key)]
        else:
            position.append(0)
            node = None
    return tuple(position)
