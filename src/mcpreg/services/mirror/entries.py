"""One upstream list entry (an official ``ServerResponse``) read into what the sync stores.

Reading is cheap and checks only the shape the sync depends on (a server object with a
name and version, the official ``_meta`` status and times); the full server.json rules
(``validate_server_json``) and the version rule run in ``check`` only for an entry whose
document is new here, so an unchanged entry is never validated twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from mcpreg.domain.mirror import MirrorVersion, mirror_version, read_upstream_time
from mcpreg.domain.serverjson import validate_server_json
from mcpreg.errors import RegistryError
from mcpreg.services.views import OFFICIAL

STATUSES = ("active", "deprecated", "deleted")
_SHOWN = 200  # characters of an unreadable name or version kept in a refusal


@dataclass(frozen=True)
class Entry:
    name: str
    version: str
    document: dict[str, Any]
    text: str  # the document as stored (orjson), compared with the stored text
    status: str
    status_message: str | None
    published_at: datetime
    status_changed_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class Refusal:
    name: str
    version: str
    reason: str


def _label(value: object) -> str:
    return value[:_SHOWN] if isinstance(value, str) else ""


def read_entry(raw: object, now: datetime) -> Entry | Refusal:
    """An entry, or the refusal that says why it cannot be one."""
    server = raw.get("server") if isinstance(raw, dict) else None
    if not isinstance(server, dict):
        return Refusal("", "", "invalid_entry: the entry has no server object")
    name, version = server.get("name"), server.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        return Refusal(_label(name), _label(version), "invalid_entry: the server has no name or version")
    meta = raw.get("_meta") if isinstance(raw, dict) else None
    official = meta.get(OFFICIAL) if isinstance(meta, dict) else None
    official = official if isinstance(official, dict) else {}
    status = official.get("status", "active")
    if status not in STATUSES:
        return Refusal(name[:_SHOWN], version[:_SHOWN], f"invalid_status: upstream status {status!r}")
    message = official.get("statusMessage")
    if message is not None and (not isinstance(message, str) or len(message) > 500 or status == "active"):
        message = None if status == "active" else str(message)[:500]
    updated_at = read_upstream_time(official.get("updatedAt"))
    published_at = read_upstream_time(official.get("publishedAt")) or updated_at or now
    changed_at = read_upstream_time(official.get("statusChangedAt")) or updated_at or published_at
    try:
        text = orjson.dumps(server).decode()
    except TypeError:
        return Refusal(name[:_SHOWN], version[:_SHOWN], "invalid_entry: the server object is not plain JSON")
    return Entry(name, version, server, text, str(status), message, published_at, changed_at, updated_at)


def check(entry: Entry, *, private_remotes: bool = False) -> MirrorVersion | Refusal:
    """The stored version of a new or changed entry, or why mcpreg refuses to store it
    (``private_remotes``: ``MCPREG_ALLOW_PRIVATE_REMOTES``, as for a local publish)."""
    try:
        validate_server_json(entry.document, private_remotes=private_remotes)
    except RegistryError as error:
        where = f" at {error.field}" if error.field else ""
        return Refusal(entry.name[:_SHOWN], entry.version[:_SHOWN], f"{error.code}{where}: {error.detail}")
    if "\\u0000" in entry.text:
        return Refusal(entry.name, entry.version[:_SHOWN], "nul_character: the databases cannot hold U+0000")
    version = mirror_version(entry.version, entry.published_at)
    if version is None:
        return Refusal(
            entry.name,
            entry.version[:_SHOWN],
            "invalid_version: a version is 1-255 characters with no surrounding white space",
        )
    return version
