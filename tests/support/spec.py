"""Validate responses against the official OpenAPI spec's component schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


class SpecSchemas:
    def __init__(self, openapi_path: Path) -> None:
        self.spec: dict[str, Any] = yaml.safe_load(openapi_path.read_text())
        self.base = self.spec["$id"]
        self.registry: Registry[Any] = Registry().with_resource(
            self.base, Resource(contents=self.spec, specification=DRAFT202012)
        )

    def validator(self, component: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{self.base}#/components/schemas/{component}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def errors(self, component: str, instance: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self.validator(component).iter_errors(instance)
        ]
