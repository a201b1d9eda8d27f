"""Documents to import, from the three shapes the registry accepts.

:func:`iter_import_documents` takes parsed JSON and yields one :class:`ImportItem` per
entry, each either a document that passes :func:`validate_server_json` or a skip reason:

* ``server.json``: a JSON list of current server.json documents (a single document
  object is accepted as a list of one);
* ``server-list``: a saved ``/v0.1/servers`` response, ``{"servers": [{"server": {...},
  "_meta": {...}}], "metadata": {...}}``; the official ``_meta`` status
  (active / deprecated / deleted) and ``publishedAt`` are kept so that a deprecated or
  deleted release can be imported as such;
* ``legacy-2025-05``: the pre-2025-07-09 seed format (``version_detail``,
  ``registry_name``, snake_case keys), e.g. upstream's ``data/seed_2025_05_16.json``.

Legacy conversion never rewrites content; it only renames keys. Decisions, per field:

* ``version_detail.version`` becomes ``version`` unchanged (``0.0.1-seed`` is valid
  semver). ``version_detail.release_date`` becomes ``ImportItem.published_at``.
  ``version_detail.is_latest`` and the legacy ``id`` are registry state, recomputed or
  assigned here, so they are not carried over. A legacy ``status`` becomes the status.
* ``name`` and ``description`` are kept verbatim. An entry with no name is skipped; a
  description that breaks the schema (empty, longer than 100 characters) is not trimmed:
  the entry is skipped with the validation reason.
* ``repository`` keeps ``url``, ``source``, ``id`` (and ``subfolder``); empty strings
  (the legacy format wrote unset fields as ``""``) are left out, and a repository with no
  field left is omitted.
* Packages: ``registry_name`` maps ``npm``/``pypi``/``nuget``/``cargo``/``mcpb`` to the same
  ``registryType`` and ``docker`` to ``oci``; ``name`` becomes ``identifier``; ``version``,
  ``runtime_hint``, ``registry_base_url``, ``file_sha256`` are renamed; an empty version is
  unset. Legacy packages ran over stdio, so ``transport`` is ``{"type": "stdio"}``.
  ``package_arguments`` / ``runtime_arguments`` / ``environment_variables`` keep their
  order and their meaning: docker packages' arguments are *not* moved to
  ``runtimeArguments``, and bare docker image names are *not* turned into image refs.
* Inputs (arguments, environment variables, headers): ``is_required``, ``is_secret``,
  ``is_repeated``, ``value_hint`` are renamed; empty ``value``, ``default``,
  ``description``, ``value_hint``, ``placeholder`` and ``format`` are unset. Arguments
  the registry rules reject (a named argument called ``--dir <path>``, a value that repeats
  its flag) are not repaired: the entry is skipped with that reason.
* A package whose ``registry_name`` has no registry type (``unknown``) and a remote whose
  ``transport_type`` is not ``sse`` or ``streamable-http`` are dropped, with a note on the
  item. If that leaves the entry with neither packages nor remotes, the entry is skipped
  with the first such reason, since it could not be installed or reached.
* Remotes: ``transport_type`` becomes ``type``; ``url`` and ``headers`` are kept.
  ``extensions`` becomes ``_meta`` publisher-provided data. Any other key is kept as is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mcpreg.domain.serverjson import validate_server_json
from mcpreg.errors import ValidationFailed

SERVER_JSON = "server.json"
SERVER_LIST = "server-list"
LEGACY = "legacy-2025-05"
STATUSES = frozenset({"active", "deprecated", "deleted"})
OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official"
PUBLISHER_PROVIDED_KEY = "io.modelcontextprotocol.registry/publisher-provided"

_REGISTRY_TYPES = {
    "npm": "npm",
    "pypi": "pypi",
    "docker": "oci",
    "oci": "oci",
    "nuget": "nuget",
    "cargo": "cargo",
    "mcpb": "mcpb",
}
_RENAMED = {
    "is_required": "isRequired",
    "is_secret": "isSecret",
    "is_repeated": "isRepeated",
    "value_hint": "valueHint",
    "runtime_hint": "runtimeHint",
    "registry_base_url": "registryBaseUrl",
    "file_sha256": "fileSha256",
    "website_url": "websiteUrl",
}
_EMPTY_MEANS_UNSET = frozenset(
    {"value", "default", "description", "value_hint", "placeholder", "format", "version", "runtime_hint"}
)
_INPUT_LISTS = {
    "runtime_arguments": "runtimeArguments",
    "package_arguments": "packageArguments",
    "environment_variables": "environmentVariables",
    "headers": "headers",
}
_Converter = Callable[[int, object], tuple[object, "str | None"]]
_CONSUMED = frozenset({"id", "version_detail", "status", "extensions", "packages", "remotes", "repository"})


@dataclass(frozen=True)
class ImportItem:
    """One entry of an import: a valid document to publish, or why it is skipped.

    ``document`` is set exactly when ``skip_reason`` is None. ``notes`` record content
    dropped during legacy conversion; ``published_at`` is the source's publish time, if any.
    ``validated`` says the document already passed :func:`validate_server_json` (every item
    :func:`iter_import_documents` yields), so the importer does not check it twice.
    """

    index: int
    label: str
    document: dict[str, Any] | None
    status: str = "active"
    skip_reason: str | None = None
    source_format: str = SERVER_JSON
    notes: tuple[str, ...] = ()
    published_at: str | None = None
    validated: bool = False


def iter_import_documents(data: object) -> Iterator[ImportItem]:
    """The entries of parsed import ``data``, in order; raises ``ValidationFailed`` on an unknown shape."""
    if isinstance(data, dict) and "servers" in data:
        servers = data["servers"]
        if not isinstance(servers, list):
            raise ValidationFailed("/servers: must be an array", field="/servers")
        return (_from_server_response(index, entry) for index, entry in enumerate(servers))
    if isinstance(data, list):
        return (_from_list_entry(index, entry) for index, entry in enumerate(data))
    if isinstance(data, dict):
        return iter([_from_list_entry(0, data)])
    raise ValidationFailed(
        "import data must be a list of server.json documents, a saved /v0.1/servers response"
        " or a legacy seed list",
        field="",
    )


def is_legacy_entry(entry: dict[str, Any]) -> bool:
    """True for an entry in the pre-2025-07-09 format."""
    if "version_detail" in entry:
        return True
    packages, remotes = entry.get("packages"), entry.get("remotes")
    return any(isinstance(p, dict) and "registry_name" in p for p in _items(packages)) or any(
        isinstance(r, dict) and "transport_type" in r for r in _items(remotes)
    )


def _from_list_entry(index: int, entry: object) -> ImportItem:
    if not isinstance(entry, dict):
        return ImportItem(index, f"#{index}", None, skip_reason="entry is not a JSON object")
    if isinstance(entry.get("server"), dict) and "name" not in entry:
        return _from_server_response(index, entry)
    if is_legacy_entry(entry):
        return _from_legacy(index, entry)
    return _checked(index, entry, source_format=SERVER_JSON)


def _from_server_response(index: int, entry: object) -> ImportItem:
    server = entry.get("server") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or not isinstance(server, dict):
        return ImportItem(
            index, f"#{index}", None, skip_reason="entry has no server object", source_format=SERVER_LIST
        )
    official = _mapping(_mapping(entry.get("_meta")).get(OFFICIAL_META_KEY))
    status = official.get("status", "active")
    published_at = official.get("publishedAt")
    if not isinstance(status, str) or status not in STATUSES:
        return ImportItem(
            index,
            _label(index, server),
            None,
            skip_reason=f"_meta status {json.dumps(status)} is not active, deprecated or deleted",
            source_format=SERVER_LIST,
        )
    return _checked(
        index,
        server,
        source_format=SERVER_LIST,
        status=str(status),
        published_at=published_at if isinstance(published_at, str) else None,
    )


def _from_legacy(index: int, entry: dict[str, Any]) -> ImportItem:
    detail = _mapping(entry.get("version_detail"))
    release_date = detail.get("release_date")
    published_at = release_date if isinstance(release_date, str) and release_date else None
    status = entry.get("status") or "active"
    if not entry.get("name"):
        return ImportItem(
            index, f"#{index}", None, skip_reason="legacy entry has no name", source_format=LEGACY
        )
    doc: dict[str, Any] = {"name": entry["name"]}
    for key in ("title", "description"):
        if key in entry:
            doc[key] = entry[key]
    repository = _legacy_repository(entry.get("repository"))
    if repository is not None:
        doc["repository"] = repository
    if "version" in detail:
        doc["version"] = detail["version"]
    for key, value in entry.items():
        if key not in _CONSUMED and key not in doc:
            doc[_renamed(key)] = value

    dropped: list[str] = []
    packages = _keep(entry.get("packages"), _legacy_package, dropped)
    remotes = _keep(entry.get("remotes"), _legacy_remote, dropped)
    label = _label(index, doc)
    if dropped and not packages and not remotes:
        return ImportItem(index, label, None, skip_reason=dropped[0], source_format=LEGACY)
    for key, kept in (("packages", packages), ("remotes", remotes)):
        if kept or (key in entry and not isinstance(entry[key], list)):
            doc[key] = kept or entry[key]  # a non-list is kept for validation to report
    if isinstance(entry.get("extensions"), dict) and entry["extensions"]:
        doc["_meta"] = {PUBLISHER_PROVIDED_KEY: entry["extensions"]}
    if not isinstance(status, str) or status not in STATUSES:
        reason = f"status {json.dumps(status)} is not active, deprecated or deleted"
        return ImportItem(index, label, None, skip_reason=reason, source_format=LEGACY)
    notes = tuple(f"dropped {reason}" for reason in dropped)
    return _checked(
        index, doc, source_format=LEGACY, status=str(status), notes=notes, published_at=published_at
    )


def _keep(value: object, convert: _Converter, dropped: list[str]) -> list[Any]:
    """Converted items of a legacy list; the reasons for items that cannot convert go to ``dropped``."""
    kept: list[Any] = []
    for position, item in enumerate(_items(value)):
        converted, problem = convert(position, item)
        if problem is None:
            kept.append(converted)
        else:
            dropped.append(problem)
    return kept


def _legacy_package(position: int, package: object) -> tuple[object, str | None]:
    if not isinstance(package, dict):
        return package, None  # validation reports it
    registry = package.get("registry_name")
    registry_type = _REGISTRY_TYPES.get(registry) if isinstance(registry, str) else None
    if registry_type is None:
        return None, f"packages[{position}]: registry_name {json.dumps(registry)} has no registry type"
    out: dict[str, Any] = {"registryType": registry_type}
    if "name" in package:
        out["identifier"] = package["name"]
    for key, value in package.items():
        if key in ("registry_name", "name") or (key in _EMPTY_MEANS_UNSET and value == ""):
            continue
        if key in _INPUT_LISTS:
            out[_INPUT_LISTS[key]] = _legacy_inputs(value)
        else:
            out[_renamed(key)] = value
    out.setdefault("transport", {"type": "stdio"})
    return out, None


def _legacy_remote(position: int, remote: object) -> tuple[object, str | None]:
    if not isinstance(remote, dict):
        return remote, None  # validation reports it
    transport = remote.get("transport_type", remote.get("type"))
    if transport not in ("streamable-http", "sse"):
        return None, f"remotes[{position}]: transport_type {json.dumps(transport)} is not a remote transport"
    out: dict[str, Any] = {"type": transport}
    for key, value in remote.items():
        if key in ("transport_type", "type"):
            continue
        if key == "headers":
            out["headers"] = _legacy_inputs(value)
        else:
            out[_renamed(key)] = value
    return out, None


def _legacy_inputs(value: object) -> object:
    return [_legacy_input(item) for item in value] if isinstance(value, list) else value


def _legacy_input(item: object) -> object:
    if not isinstance(item, dict):
        return item
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key in _EMPTY_MEANS_UNSET and value == "":
            continue
        if key == "variables" and isinstance(value, dict):
            out[key] = {name: _legacy_input(variable) for name, variable in value.items()}
        else:
            out[_renamed(key)] = value
    return out


def _renamed(key: str) -> str:
    return _RENAMED.get(key, key)


def _legacy_repository(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    kept = {key: item for key, item in value.items() if item != ""}
    return kept or None


def _checked(
    index: int,
    doc: dict[str, Any],
    *,
    source_format: str,
    status: str = "active",
    notes: tuple[str, ...] = (),
    published_at: str | None = None,
) -> ImportItem:
    label = _label(index, doc)
    try:
        validate_server_json(doc)
    except ValidationFailed as exc:
        return ImportItem(
            index, label, None, status, _reason(exc), source_format, notes, published_at=published_at
        )
    return ImportItem(
        index, label, doc, status, None, source_format, notes, published_at=published_at, validated=True
    )


def _reason(exc: ValidationFailed) -> str:
    errors = exc.extra.get("errors") or []
    if not errors:
        return exc.detail
    first = errors[0]
    return f"{first['field'] or 'document'}: {first['message']} ({first['rule']})"


def _label(index: int, doc: dict[str, Any]) -> str:
    name, version = doc.get("name"), doc.get("version")
    if isinstance(name, str) and name and isinstance(version, str) and version:
        return f"{name}@{version}"
    return f"#{index}"


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
