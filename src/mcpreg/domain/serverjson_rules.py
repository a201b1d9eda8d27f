"""The official registry's server.json rules that go beyond the JSON schema.

Ported in spirit from ``internal/validators`` of modelcontextprotocol/registry, keeping
only the rules that hold for any publisher (ownership, package-registry look-ups and
remote-host-matches-namespace checks are left out on purpose):

* ``name-format``: namespace and server part each start and end with a letter or digit
  (so each is at least two characters); the schema pattern already forces one ``/``.
* ``reserved-version``: the server ``version`` is not ``latest`` (packages: schema ``not``).
* ``version-range``: no range syntax in server or package versions (``^1.2.3``,
  ``~1.2.3``, ``>=1.2.3``, ``1.2.3 - 2.0.0``, ``1.2 || 1.3``, ``1.x``, ``1.*``, bare ``*``).
  Unlike upstream, an ``x`` inside a pre-release (``1.0.0-next``) is not a wildcard.
* ``identifier-spaces``: a package identifier has no spaces.
* ``named-argument-name``: a named argument's name is a bare flag (not empty, no space,
  ``<``, ``>`` or ``$``); ``argument-value-prefix``: its value/default do not repeat it.
* ``stdio-url``: a stdio transport has no URL.
* ``transport-url``: a package transport URL is an absolute http(s) URL with a host;
  ``remote-url``: a remote URL is https and not localhost; ``url-variable``: every
  ``{variable}`` in a URL is defined (package: argument names, valueHints, environment
  variable names; remote: the transport's ``variables``). A URL that *starts* with a
  ``{variable}`` (allowed by the draft schema) gets its scheme and host from that variable,
  so only the variable check applies.
* ``website-url``, ``icon-src``: absolute https URLs.  ``title-blank``: a title is not
  only whitespace.  ``subfolder``: a clean relative path.  ``publisher-provided-size``:
  the ``_meta`` publisher-provided object is at most 4 KiB as JSON.

Every function reads the raw parsed document defensively: the schema layer reports
wrong types, these rules only look at values of the right type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from mcpreg.domain.pointer import to_pointer
from mcpreg.domain.serverjson_models import NAME_PATTERN, PUBLISHER_PROVIDED_KEY, TRANSPORT_URL_PATTERN

PUBLISHER_PROVIDED_MAX_BYTES = 4096

_NAMESPACE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]", re.ASCII)
_SERVER_PART = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", re.ASCII)

_VERSION = r"v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?"
_RANGES = (
    re.compile(rf"(?:\^|~|>=|<=|>|<|=)\s*{_VERSION}", re.ASCII),
    re.compile(rf"{_VERSION}\s-\s*{_VERSION}", re.ASCII),
    re.compile(rf"{_VERSION}\s*(?:\|\|\s*{_VERSION}\s*)+", re.ASCII),
)
_DOTTED = re.compile(r"(?:v?\d+|x|X|\*)(?:\.(?:\d+|x|X|\*)){1,2}(?:-[0-9A-Za-z.-]+)?", re.ASCII)
_WILDCARDS = frozenset({"*", "x", "X"})

_TEMPLATE = re.compile(r"\{([^}]+)\}")
_PORT_TEMPLATE = re.compile(r":\{[^}]+\}(/|$)")
_SUBFOLDER = re.compile(r"[a-zA-Z0-9_./-]+", re.ASCII)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (JSON pointer), which rule, and a value-free message."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


def registry_violations(doc: object, *, private_remotes: bool = False) -> Iterator[Violation]:
    """Every registry-rule violation of a parsed server.json document.

    ``private_remotes`` (``MCPREG_ALLOW_PRIVATE_REMOTES``) lets remotes be plain http and
    name loopback or private hosts (``remote-url``).
    """
    if not isinstance(doc, dict):
        return
    yield from _name_violations(_text(doc, "name"))
    version = _text(doc, "version")
    if version == "latest":
        yield Violation("/version", "reserved-version", 'must not be "latest"')
    elif version is not None and looks_like_version_range(version):
        yield Violation("/version", "version-range", "must be a specific version, not a range")
    title = _text(doc, "title")
    if title and not title.strip():
        yield Violation("/title", "title-blank", "must not be only whitespace")
    website = _text(doc, "websiteUrl")
    if website is not None and not _is_https_url(website):
        yield Violation("/websiteUrl", "website-url", "must be an absolute https URL")
    subfolder = _text(_object(doc.get("repository")), "subfolder")
    if subfolder and not _is_clean_relative_path(subfolder):
        yield Violation("/repository/subfolder", "subfolder", "must be a clean relative path")
    for index, icon in _objects(doc.get("icons")):
        src = _text(icon, "src")
        if src is not None and not _is_https_url(src):
            yield Violation(f"/icons/{index}/src", "icon-src", "must be an absolute https URL")
    for index, package in _objects(doc.get("packages")):
        yield from _package_violations(f"/packages/{index}", package)
    for index, remote in _objects(doc.get("remotes")):
        yield from _remote_violations(f"/remotes/{index}", remote, private_remotes)
    oversized = publisher_provided_violation(doc)
    if oversized is not None:
        yield oversized


def publisher_provided_violation(doc: dict[str, Any]) -> Violation | None:
    """``publisher-provided-size``: the ``_meta`` publisher block is at most 4 KB as JSON."""
    meta = _object(doc.get("_meta"))
    provided = meta.get(PUBLISHER_PROVIDED_KEY) if meta else None
    if not isinstance(provided, dict):
        return None
    size = _json_size(provided)
    if size <= PUBLISHER_PROVIDED_MAX_BYTES:
        return None
    return Violation(
        to_pointer(("_meta", PUBLISHER_PROVIDED_KEY)),
        "publisher-provided-size",
        f"_meta.{PUBLISHER_PROVIDED_KEY} extension exceeds 4KB limit ({size} bytes); "
        f"it must be at most {PUBLISHER_PROVIDED_MAX_BYTES} bytes as JSON",
    )


def looks_like_version_range(version: str) -> bool:
    """True when ``version`` reads as a range or wildcard rather than one version."""
    trimmed = version.strip()
    if not trimmed:
        return False
    if trimmed in _WILDCARDS or any(pattern.fullmatch(trimmed) for pattern in _RANGES):
        return True
    if _DOTTED.fullmatch(trimmed):
        core = trimmed.split("-", 1)[0]
        return any(wildcard in core for wildcard in _WILDCARDS)
    return False


def _name_violations(name: str | None) -> Iterator[Violation]:
    if name is None or not re.fullmatch(NAME_PATTERN, name):
        return  # the schema reports a missing or malformed name
    namespace, server = name.split("/", 1)
    if not _NAMESPACE.fullmatch(namespace):
        yield Violation(
            "/name", "name-format", "namespace must start and end with a letter or digit (reverse-DNS)"
        )
    if not _SERVER_PART.fullmatch(server):
        yield Violation("/name", "name-format", "server part must start and end with a letter or digit")


def _package_violations(where: str, package: dict[str, Any]) -> Iterator[Violation]:
    identifier = _text(package, "identifier")
    if identifier is not None and " " in identifier:
        yield Violation(f"{where}/identifier", "identifier-spaces", "must not contain spaces")
    version = _text(package, "version")
    if version is not None and version != "latest" and looks_like_version_range(version):
        yield Violation(f"{where}/version", "version-range", "must be a specific version, not a range")
    defined: set[str] = set()
    for key in ("runtimeArguments", "packageArguments"):
        for index, argument in _objects(package.get(key)):
            yield from _argument_violations(f"{where}/{key}/{index}", argument)
            defined.update(_texts(argument, "name", "valueHint"))
    for _, env in _objects(package.get("environmentVariables")):
        defined.update(_texts(env, "name"))
    transport = _object(package.get("transport"))
    if transport is None:
        return
    kind, url = _text(transport, "type"), transport.get("url")
    if kind == "stdio" and "url" in transport and url != "":
        yield Violation(f"{where}/transport/url", "stdio-url", "must be absent for a stdio transport")
    elif kind in ("streamable-http", "sse") and isinstance(url, str):
        yield from _url_violations(f"{where}/transport/url", url, defined, remote=False)


def _argument_violations(where: str, argument: dict[str, Any]) -> Iterator[Violation]:
    name = _text(argument, "name")
    if _text(argument, "type") != "named" or name is None:
        return
    if not name:
        yield Violation(f"{where}/name", "named-argument-name", "must not be empty")
        return
    if any(char in name for char in " <>$"):
        yield Violation(
            f"{where}/name", "named-argument-name", "must be a bare flag name (no spaces, '<', '>' or '$')"
        )
    for key in ("value", "default"):
        text = _text(argument, key)
        if text and text.startswith(name):
            yield Violation(
                f"{where}/{key}", "argument-value-prefix", "must not start with the argument name"
            )


def _remote_violations(where: str, remote: dict[str, Any], private_remotes: bool) -> Iterator[Violation]:
    url = _text(remote, "url")
    if _text(remote, "type") not in ("streamable-http", "sse") or url is None:
        return
    variables = _object(remote.get("variables")) or {}
    yield from _url_violations(f"{where}/url", url, set(variables), remote=True, private=private_remotes)


def _url_violations(
    where: str, url: str, defined: set[str], *, remote: bool, private: bool = False
) -> Iterator[Violation]:
    if not re.fullmatch(TRANSPORT_URL_PATTERN, url):
        return  # the schema reports it
    if not url.startswith("{"):
        parts = _split(_with_placeholders(url))
        public = parts is not None and parts.scheme == "https" and _is_public_host(parts.hostname)
        any_host = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        if remote and private and not any_host:
            yield Violation(where, "remote-url", "must be an absolute http(s) URL with a host")
        elif remote and not private and not public:
            yield Violation(where, "remote-url", "must be an https URL of a non-local host")
        elif not remote and not (parts and parts.scheme in ("http", "https") and parts.hostname):
            yield Violation(where, "transport-url", "must be an absolute http(s) URL with a host")
    undefined = [name for name in _TEMPLATE.findall(url) if name not in defined]
    if undefined:
        source = "variables" if remote else "the package's arguments or environment variables"
        yield Violation(where, "url-variable", f"uses {{{undefined[0]}}}, which is not defined in {source}")


def _with_placeholders(url: str) -> str:
    """``url`` with ``{variables}`` replaced by values that parse (a port where a port goes)."""
    return _TEMPLATE.sub("placeholder", _PORT_TEMPLATE.sub(r":8080\1", url))


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    return parts


def _is_public_host(hostname: str | None) -> bool:
    return bool(hostname) and hostname not in _LOCAL_HOSTS and not str(hostname).endswith(".localhost")


def _is_https_url(url: str) -> bool:
    parts = _split(url)
    return parts is not None and parts.scheme == "https" and bool(parts.netloc)


def _is_clean_relative_path(path: str) -> bool:
    if path.startswith("/") or path.endswith("/") or not _SUBFOLDER.fullmatch(path):
        return False
    return all(segment not in ("", ".", "..") for segment in path.split("/"))


def _json_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _text(node: dict[str, Any] | None, key: str) -> str | None:
    value = node.get(key) if node is not None else None
    return value if isinstance(value, str) else None


def _texts(node: dict[str, Any], *keys: str) -> Iterator[str]:
    for key in keys:
        value = node.get(key)
        if isinstance(value, str):
            yield value


def _object(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _objects(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item
