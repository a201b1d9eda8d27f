"""What a release says it needs to run: its declared environment variables and headers.

A server.json declares inputs in ``packages[].environmentVariables`` and in
``remotes[].headers``, each with ``isRequired``, ``isSecret`` and ``default``. The
same name declared twice (two packages, or a package and a remote) is merged: it is
required or secret if any declaration says so, and keeps the first default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Declaration:
    name: str
    required: bool = False
    secret: bool = False
    default: str | None = None
    header: bool = False

    def merge(self, other: Declaration) -> Declaration:
        return Declaration(
            name=self.name,
            required=self.required or other.required,
            secret=self.secret or other.secret,
            default=other.default if other.default is not None else self.default,
            header=self.header or other.header,
        )


def _items(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _declaration(item: dict[str, Any], *, header: bool) -> Declaration | None:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return None
    default = item.get("default")
    return Declaration(
        name=name,
        required=item.get("isRequired") is True,
        secret=item.get("isSecret") is True,
        default=default if isinstance(default, str) else None,
        header=header,
    )


def declared_inputs(document: dict[str, Any]) -> dict[str, Declaration]:
    """Every environment variable and header the document declares, by name, in order."""
    found: list[Declaration | None] = []
    for package in _items(document.get("packages")):
        found.extend(_declaration(item, header=False) for item in _items(package.get("environmentVariables")))
    for remote in _items(document.get("remotes")):
        found.extend(_declaration(item, header=True) for item in _items(remote.get("headers")))
    declared: dict[str, Declaration] = {}
    for declaration in found:
        if declaration is None:
            continue
        first = declared.get(declaration.name)
        declared[declaration.name] = declaration if first is None else declaration.merge(first)
    return declared
