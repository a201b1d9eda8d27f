"""What the official registry refuses at publish time, beyond validating the document.

These rules hold for a server.json that is being *published* (``/v0.1/publish``, a new
draft), not for every stored document: an imported catalogue (legacy entries have no
``$schema``) is judged by :mod:`mcpreg.domain.serverjson` alone.

* ``schema-required``: ``$schema`` is present; the message names the current schema URL.
* ``repository-url``: a ``repository`` whose ``source`` is ``github`` or ``gitlab`` has a
  URL that names a repository there (``https://github.com/OWNER/REPO``; GitLab allows
  subgroups). Other sources stay allowed: private registries use their own forges.
* ``publisher-provided-size``: the ``_meta`` publisher-provided block is at most 4 KB as
  JSON (the rule itself lives in :mod:`mcpreg.domain.serverjson_rules`).

Each message starts with the official registry's text, so clients matching on it work.
Messages never repeat the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mcpreg.domain.serverjson_rules import Violation, publisher_provided_violation

CURRENT_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

# The official registry's patterns (``internal/validators/utils.go``).
_REPOSITORY_URLS = {
    "github": re.compile(r"https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+/?", re.ASCII),
    "gitlab": re.compile(r"https?://(?:www\.)?gitlab\.com/[\w.-]+(?:/[\w.-]+)+/?", re.ASCII),
}
_REPOSITORY_EXAMPLES = {
    "github": "https://github.com/OWNER/REPO",
    "gitlab": "https://gitlab.com/GROUP/[SUBGROUP/]PROJECT",
}


def publish_violations(doc: object) -> list[Violation]:
    """Every publish-time refusal of a parsed server.json, in the official registry's order."""
    return list(_violations(doc)) if isinstance(doc, dict) else []


def _violations(doc: dict[str, object]) -> Iterator[Violation]:
    oversized = publisher_provided_violation(doc)
    if oversized is not None:
        yield oversized
    schema = doc.get("$schema")
    if schema is None or schema == "":
        yield Violation(
            "/$schema",
            "schema-required",
            f"$schema field is required. Expected current schema: {CURRENT_SCHEMA_URL}",
        )
    repository = doc.get("repository")
    if isinstance(repository, dict):
        source, url = repository.get("source"), repository.get("url")
        pattern = _REPOSITORY_URLS.get(source) if isinstance(source, str) else None
        if pattern is not None and isinstance(url, str) and not pattern.fullmatch(url):
            assert isinstance(source, str)
            yield Violation(
                "/repository/url",
                "repository-url",
                f"invalid repository URL: a {source} repository URL looks like "
                f"{_REPOSITORY_EXAMPLES[source]}",
            )
