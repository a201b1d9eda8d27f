"""The official registry's publish-time rules, as pure functions over a parsed server.json."""

from __future__ import annotations

from typing import Any

import pytest

from mcpreg.domain.publish_rules import CURRENT_SCHEMA_URL, publish_violations
from mcpreg.domain.serverjson import validation_errors
from tests.conftest import server_doc

PUBLISHER = "io.modelcontextprotocol.registry/publisher-provided"


def rules(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in publish_violations(doc)]


def test_a_valid_document_breaks_no_publish_rule() -> None:
    assert publish_violations(server_doc()) == []


def test_every_official_seed_document_passes_the_publish_rules(seed_servers: list[dict[str, Any]]) -> None:
    for doc in seed_servers:
        assert publish_violations(doc) == [], doc["name"]


@pytest.mark.parametrize("schema", [None, ""])
def test_a_missing_or_empty_schema_names_the_current_schema_url(schema: str | None) -> None:
    doc = server_doc()
    if schema is None:
        del doc["$schema"]
    else:
        doc["$schema"] = schema
    (violation,) = publish_violations(doc)
    assert (violation.field, violation.rule) == ("/$schema", "schema-required")
    assert violation.message.startswith("$schema field is required")
    assert CURRENT_SCHEMA_URL in violation.message


@pytest.mark.parametrize(
    ("source", "url", "allowed"),
    [
        ("github", "https://github.com/acme/weather", True),
        ("github", "https://www.github.com/acme/weather.mcp/", True),
        ("github", "http://github.com/acme/weather", True),
        ("github", "https://github.com/acme", False),
        ("github", "https://github.com/", False),
        ("github", "https://github.com/acme/weather/tree/main", False),
        ("github", "https://gitlab.com/acme/weather", False),
        ("github", "https://github.com/acme/weather?tab=readme", False),
        ("gitlab", "https://gitlab.com/acme/weather", True),
        ("gitlab", "https://gitlab.com/acme/tools/weather", True),
        ("gitlab", "https://gitlab.com/acme", False),
        ("gitea", "https://git.acme.internal/acme", True),
        ("bitbucket", "https://bitbucket.org/acme", True),
    ],
)
def test_a_forge_repository_url_must_name_a_repository_there(source: str, url: str, allowed: bool) -> None:
    found = rules(server_doc(repository={"url": url, "source": source}))
    assert found == ([] if allowed else [("/repository/url", "repository-url")])


def test_the_publisher_meta_block_may_hold_4_kb_and_no_more() -> None:
    def doc(size: int) -> dict[str, Any]:
        # {"n":"..."} is 8 bytes of JSON around the value
        return server_doc(_meta={PUBLISHER: {"n": "x" * (size - 8)}})

    assert rules(doc(4096)) == []
    (violation,) = publish_violations(doc(4097))
    assert violation.rule == "publisher-provided-size"
    assert violation.message.startswith(f"_meta.{PUBLISHER} extension exceeds 4KB limit (4097 bytes)")
    assert [e["rule"] for e in validation_errors(doc(4097))] == ["publisher-provided-size"], (
        "one rule, one place"
    )


def test_messages_never_repeat_the_offending_value() -> None:
    secret = "https://github.com/ghp_secret123"
    (violation,) = publish_violations(server_doc(repository={"url": secret, "source": "github"}))
    assert "ghp_secret123" not in violation.message


def test_what_is_not_an_object_breaks_no_publish_rule() -> None:
    assert publish_violations([]) == []
    assert publish_violations("server.json") == []
