"""Release diffs: what changed between two server.json documents.

``diff_documents(old, new)`` walks both documents and returns one ``Change`` per
difference, each addressed by an RFC 6901 JSON pointer (``~`` escaped as ``~0``,
``/`` as ``~1``).

How values are compared:

* Objects are compared key by key, recursively. A key present on one side only is
  ``added`` or ``removed`` (whatever its value, even ``null``); the absent side is
  ``None`` in the change.
* Arrays named in ``_ENTRY_KEYS`` hold entries with an identity and are matched by
  it, not by position: ``packages`` by ``(registryType, identifier)``, ``remotes``
  by ``url``, ``environmentVariables`` and ``headers`` by ``name``,
  ``packageArguments`` and ``runtimeArguments`` by ``name`` (named arguments) or
  ``valueHint`` (positional ones). Reordering such an array is therefore no change.
  Matched entries are diffed recursively; the pointer index of an ``added`` or
  ``changed`` entry is its index in the NEW document, of a ``removed`` entry its
  index in the OLD document.
* Keyed matching only applies when every entry on both sides is an object with a
  key and no key repeats; for argument arrays it also requires the positional
  arguments that both sides share to keep their relative order (their order is the
  command line). Otherwise the array is compared as a whole.
* Every other array (lists of scalars, ``icons``...) is a single value: when it
  differs, one ``changed`` carries the whole old and new array. Positional
  element diffs would report a cascade of changes for one insertion.
* ``true`` differs from ``1``; ``1`` equals ``1.0`` (JSON has one number type).

Changes are sorted by pointer, comparing array indices as numbers, and on the
same pointer ``removed`` before ``added``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mcpreg.domain.pointer import Token, to_pointer

Op = Literal["added", "removed", "changed"]
Path = tuple[Token, ...]
EntryKey = Callable[[Mapping[str, Any]], Hashable | None]

_OP_ORDER: dict[Op, int] = {"removed": 0, "added": 1, "changed": 2}


@dataclass(frozen=True)
class Change:
    """One difference between two documents, at ``path`` (a JSON pointer)."""

    op: Op
    path: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``{"op", "path", "old", "new"}``."""
        return {"op": self.op, "path": self.path, "old": self.old, "new": self.new}


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change turning ``old`` into ``new``, sorted by pointer."""
    found: list[tuple[Path, Op, Any, Any]] = []
    _diff_mappings(old, new, (), found)
    found.sort(key=lambda item: (_path_order(item[0]), _OP_ORDER[item[1]]))
    return [
        Change(op=op, path=to_pointer(path), old=copy.deepcopy(before), new=copy.deepcopy(after))
        for path, op, before, after in found
    ]


def _package_key(entry: Mapping[str, Any]) -> Hashable | None:
    registry_type, identifier = entry.get("registryType"), entry.get("identifier")
    if isinstance(registry_type, str) and isinstance(identifier, str):
        return (registry_type, identifier)
    return None


def _url_key(entry: Mapping[str, Any]) -> Hashable | None:
    url = entry.get("url")
    return url if isinstance(url, str) else None


def _name_key(entry: Mapping[str, Any]) -> Hashable | None:
    name = entry.get("name")
    return name if isinstance(name, str) else None


def _argument_key(entry: Mapping[str, Any]) -> Hashable | None:
    name, hint = entry.get("name"), entry.get("valueHint")
    if entry.get("type") != "positional" and isinstance(name, str):
        return ("named", name)
    if isinstance(hint, str):
        return ("positional", hint)
    return None


_ENTRY_KEYS: dict[str, EntryKey] = {
    "packages": _package_key,
    "remotes": _url_key,
    "environmentVariables": _name_key,
    "headers": _name_key,
    "packageArguments": _argument_key,
    "runtimeArguments": _argument_key,
}
_ARGUMENT_ARRAYS = frozenset({"packageArguments", "runtimeArguments"})


def _diff_mappings(
    old: Mapping[str, Any], new: Mapping[str, Any], path: Path, found: list[tuple[Path, Op, Any, Any]]
) -> None:
    for key in old:
        if key not in new:
            found.append(((*path, key), "removed", old[key], None))
        else:
            _diff_values(old[key], new[key], (*path, key), key, found)
    for key in new:
        if key not in old:
            found.append(((*path, key), "added", None, new[key]))


def _diff_values(
    old: Any, new: Any, path: Path, field: str | None, found: list[tuple[Path, Op, Any, Any]]
) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        _diff_mappings(old, new, path, found)
        return
    if field is not None and _is_array(old) and _is_array(new):
        matched = _match_entries(field, old, new)
        if matched is not None:
            _diff_entries(old, new, matched, path, found)
            return
    if not same_value(old, new):
        found.append((path, "changed", old, new))


def _diff_entries(
    old: Sequence[Any],
    new: Sequence[Any],
    matched: tuple[dict[Hashable, int], dict[Hashable, int]],
    path: Path,
    found: list[tuple[Path, Op, Any, Any]],
) -> None:
    old_index, new_index = matched
    for key, i in old_index.items():
        if key not in new_index:
            found.append(((*path, i), "removed", old[i], None))
    for key, j in new_index.items():
        if key in old_index:
            _diff_values(old[old_index[key]], new[j], (*path, j), None, found)
        else:
            found.append(((*path, j), "added", None, new[j]))


def _match_entries(
    field: str, old: Sequence[Any], new: Sequence[Any]
) -> tuple[dict[Hashable, int], dict[Hashable, int]] | None:
    """Entry key -> index on each side, or None when the array cannot be keyed."""
    key_of = _ENTRY_KEYS.get(field)
    if key_of is None:
        return None
    old_index, new_index = _index_entries(old, key_of), _index_entries(new, key_of)
    if old_index is None or new_index is None:
        return None
    if field in _ARGUMENT_ARRAYS and _positional_order(old_index, new_index) != _positional_order(
        new_index, old_index
    ):
        return None
    return old_index, new_index


def _index_entries(entries: Sequence[Any], key_of: EntryKey) -> dict[Hashable, int] | None:
    index: dict[Hashable, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            return None
        key = key_of(entry)
        if key is None or key in index:
            return None
        index[key] = i
    return index


def _positional_order(side: dict[Hashable, int], other: dict[Hashable, int]) -> list[Hashable]:
    """The positional arguments of ``side`` also in ``other``, in ``side``'s order."""
    return [
        key
        for key in sorted(side, key=side.__getitem__)
        if isinstance(key, tuple) and key[0] == "positional" and key in other
    ]


def _is_array(value: Any) -> bool:
    return isinstance(value, list | tuple)


def same_value(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, ``1 == 1.0``, NaN equals NaN."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return (
            isinstance(a, Mapping)
            and isinstance(b, Mapping)
            and a.keys() == b.keys()
            and all(same_value(a[key], b[key]) for key in a)
        )
    if _is_array(a) or _is_array(b):
        return (
            _is_array(a)
            and _is_array(b)
            and len(a) == len(b)
            and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _path_order(path: Path) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, token, "") if isinstance(token, int) else (1, 0, token) for token in path)
