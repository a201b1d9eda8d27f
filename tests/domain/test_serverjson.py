"""server.json validation: the models agree with the official schema; registry rules add to it."""

from __future__ import annotations

import copy
import functools
import json
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mcpreg.domain.serverjson import (
    SCHEMA_RULES,
    ServerDetail,
    validate_server_json,
    validation_errors,
)
from mcpreg.domain.serverjson_rules import looks_like_version_range
from mcpreg.errors import ValidationFailed

CATALOGUE = Path(__file__).resolve().parents[2] / "registry-data" / "catalogue.json"
SHA = "fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce"


@functools.cache
def _catalogue() -> list[dict[str, Any]]:
    return json.loads(CATALOGUE.read_text())  # type: ignore[no-any-return]


def _valid_doc() -> dict[str, Any]:
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.acme/weather",
        "title": "Weather",
        "description": "Forecasts for any city.",
        "version": "1.2.0",
        "websiteUrl": "https://acme.example.com/weather",
        "repository": {
            "url": "https://github.com/acme/weather",
            "source": "github",
            "subfolder": "srv/weather",
        },
        "icons": [{"src": "https://acme.example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48"]}],
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@acme/weather",
                "version": "1.2.0",
                "fileSha256": SHA,
                "transport": {"type": "stdio"},
                "packageArguments": [
                    {"type": "positional", "valueHint": "city"},
                    {"type": "named", "name": "--units", "default": "metric", "format": "string"},
                ],
                "environmentVariables": [{"name": "API_KEY", "isRequired": True, "isSecret": True}],
            }
        ],
        "remotes": [
            {
                "type": "streamable-http",
                "url": "https://{tenant}.acme.example.com/mcp",
                "variables": {"tenant": {"isRequired": True}},
                "headers": [{"name": "Authorization", "isSecret": True}],
            }
        ],
        "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci"}},
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting the JSON pointer ``path`` (its parent must exist)."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = [p.replace("~1", "/") for p in path.split("/")[1:]]
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")[1:]
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return apply


PKG = "/packages/0"
ARG = "/packages/0/packageArguments"
INVALID_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("name missing", _drop("/name"), "/name", "required"),
    ("name with two slashes", _set("/name", "io.github.acme/weather/extra"), "/name", "pattern"),
    ("name too long", _set("/name", "io.github.acme/" + "w" * 190), "/name", "maxLength"),
    ("namespace starts with a dot", _set("/name", ".io.github/weather"), "/name", "name-format"),
    ("server part ends with a dash", _set("/name", "io.github.acme/weather-"), "/name", "name-format"),
    ("description too long", _set("/description", "d" * 101), "/description", "maxLength"),
    ("description empty", _set("/description", ""), "/description", "minLength"),
    ("description a number", _set("/description", 3), "/description", "type"),
    ("title only spaces", _set("/title", "   "), "/title", "title-blank"),
    ("version caret range", _set("/version", "^1.2.3"), "/version", "version-range"),
    ("version tilde range", _set("/version", "~1.2.3"), "/version", "version-range"),
    ("version comparator", _set("/version", ">=1.2.3"), "/version", "version-range"),
    ("version x wildcard", _set("/version", "1.x"), "/version", "version-range"),
    ("version star wildcard", _set("/version", "1.*"), "/version", "version-range"),
    ("version latest", _set("/version", "latest"), "/version", "reserved-version"),
    ("version too long", _set("/version", "1" * 256), "/version", "maxLength"),
    ("website not https", _set("/websiteUrl", "http://acme.example.com"), "/websiteUrl", "website-url"),
    ("repository without source", _drop("/repository/source"), "/repository/source", "required"),
    ("subfolder climbs out", _set("/repository/subfolder", "../x"), "/repository/subfolder", "subfolder"),
    ("icon src too long", _set("/icons/0/src", "https://a.io/" + "i" * 250), "/icons/0/src", "maxLength"),
    ("icon src not https", _set("/icons/0/src", "http://a.io/i.png"), "/icons/0/src", "icon-src"),
    ("icon size without x", _set("/icons/0/sizes/0", "48"), "/icons/0/sizes/0", "pattern"),
    ("icon mime type gif", _set("/icons/0/mimeType", "image/gif"), "/icons/0/mimeType", "enum"),
    ("icon theme blue", _set("/icons/0/theme", "blue"), "/icons/0/theme", "enum"),
    ("package version latest", _set(f"{PKG}/version", "latest"), f"{PKG}/version", "not"),
    ("package version range", _set(f"{PKG}/version", "^1.2.0"), f"{PKG}/version", "version-range"),
    ("package version empty", _set(f"{PKG}/version", ""), f"{PKG}/version", "minLength"),
    ("package version null", _set(f"{PKG}/version", None), f"{PKG}/version", "type"),
    ("sha256 upper case", _set(f"{PKG}/fileSha256", SHA.upper()), f"{PKG}/fileSha256", "pattern"),
    (
        "identifier with space",
        _set(f"{PKG}/identifier", "@acme/wea ther"),
        f"{PKG}/identifier",
        "identifier-spaces",
    ),
    ("transport missing", _drop(f"{PKG}/transport"), f"{PKG}/transport", "required"),
    ("transport websocket", _set(f"{PKG}/transport", {"type": "ws"}), f"{PKG}/transport/type", "enum"),
    ("transport without type", _set(f"{PKG}/transport", {}), f"{PKG}/transport/type", "required"),
    ("transport a string", _set(f"{PKG}/transport", "stdio"), f"{PKG}/transport", "type"),
    ("http transport no url", _set(f"{PKG}/transport", {"type": "sse"}), f"{PKG}/transport/url", "required"),
    (
        "http transport ws url",
        _set(f"{PKG}/transport", {"type": "streamable-http", "url": "ws://x.io"}),
        f"{PKG}/transport/url",
        "pattern",
    ),
    (
        "transport url undefined variable",
        _set(f"{PKG}/transport", {"type": "sse", "url": "http://localhost:{PORT}/sse"}),
        f"{PKG}/transport/url",
        "url-variable",
    ),
    (
        "stdio with url",
        _set(f"{PKG}/transport", {"type": "stdio", "url": "http://x.io"}),
        f"{PKG}/transport/url",
        "stdio-url",
    ),
    ("positional without value", _set(f"{ARG}/0", {"type": "positional"}), f"{ARG}/0", "anyOf"),
    ("named without name", _set(f"{ARG}/1", {"type": "named"}), f"{ARG}/1/name", "required"),
    (
        "named name with placeholder",
        _set(f"{ARG}/1/name", "--dir <path>"),
        f"{ARG}/1/name",
        "named-argument-name",
    ),
    (
        "named value repeats flag",
        _set(f"{ARG}/1/default", "--units metric"),
        f"{ARG}/1/default",
        "argument-value-prefix",
    ),
    ("argument type unknown", _set(f"{ARG}/0/type", "flag"), f"{ARG}/0/type", "enum"),
    ("input format date", _set(f"{ARG}/1/format", "date"), f"{ARG}/1/format", "enum"),
    (
        "env without name",
        _drop(f"{PKG}/environmentVariables/0/name"),
        f"{PKG}/environmentVariables/0/name",
        "required",
    ),
    (
        "secret flag as text",
        _set(f"{PKG}/environmentVariables/0/isSecret", "true"),
        f"{PKG}/environmentVariables/0/isSecret",
        "type",
    ),
    ("remote over stdio", _set("/remotes/0/type", "stdio"), "/remotes/0/type", "enum"),
    ("remote on localhost", _set("/remotes/0/url", "https://localhost/mcp"), "/remotes/0/url", "remote-url"),
    (
        "remote over http",
        _set("/remotes/0/url", "http://{tenant}.acme.io/mcp"),
        "/remotes/0/url",
        "remote-url",
    ),
    ("remote variable undeclared", _drop("/remotes/0/variables/tenant"), "/remotes/0/url", "url-variable"),
    (
        "remote variable not an object",
        _set("/remotes/0/variables/tenant", "x"),
        "/remotes/0/variables/tenant",
        "type",
    ),
    (
        "header without name",
        _set("/remotes/0/headers/0", {"value": "x"}),
        "/remotes/0/headers/0/name",
        "required",
    ),
    (
        "publisher meta not an object",
        _set("/_meta/io.modelcontextprotocol.registry~1publisher-provided", []),
        "/_meta/io.modelcontextprotocol.registry~1publisher-provided",
        "type",
    ),
    (
        "publisher meta over 4 KiB",
        _set("/_meta/io.modelcontextprotocol.registry~1publisher-provided", {"blob": "b" * 5000}),
        "/_meta/io.modelcontextprotocol.registry~1publisher-provided",
        "publisher-provided-size",
    ),
    ("schema uri a number", _set("/$schema", 7), "/$schema", "type"),
]


def test_every_official_seed_document_is_valid(seed_servers: list[dict[str, Any]]) -> None:
    for doc in seed_servers:
        assert validation_errors(doc) == []
        assert isinstance(validate_server_json(doc), ServerDetail)


def test_the_hand_written_baseline_document_is_valid(official_server_schema: dict[str, Any]) -> None:
    doc = _valid_doc()
    assert validation_errors(doc) == []
    assert jsonschema.Draft7Validator(official_server_schema).is_valid(doc)


@pytest.mark.parametrize(
    ("mutate", "field", "rule"), [c[1:] for c in INVALID_CASES], ids=[c[0] for c in INVALID_CASES]
)
def test_an_invalid_document_fails_at_the_offending_field(
    mutate: Callable[[dict[str, Any]], None], field: str, rule: str
) -> None:
    doc = _valid_doc()
    mutate(doc)
    with pytest.raises(ValidationFailed) as caught:
        validate_server_json(doc)
    assert caught.value.code == "validation_failed"
    assert caught.value.field == field
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in caught.value.extra["errors"]
    ]


def test_a_document_that_is_not_an_object_fails_at_the_root() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_server_json(["not", "an", "object"])
    assert caught.value.field == ""
    assert caught.value.extra["errors"][0]["rule"] == "type"


def test_every_violation_is_listed_in_document_order() -> None:
    doc = _valid_doc()
    doc["name"] = "bad name"
    doc["packages"][0]["version"] = "latest"
    doc["remotes"][0]["type"] = "stdio"
    errors = validation_errors(doc)
    assert [(e["field"], e["rule"]) for e in errors] == [
        ("/name", "pattern"),
        ("/packages/0/version", "not"),
        ("/remotes/0/type", "enum"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        validate_server_json(doc)
    assert caught.value.field == "/name"
    assert caught.value.extra["errors"] == errors
    assert caught.value.to_problem()["errors"] == errors


def test_messages_never_repeat_the_offending_value() -> None:
    doc = _valid_doc()
    doc["packages"][0]["environmentVariables"][0]["isSecret"] = "hunter2-secret"
    doc["remotes"][0]["headers"][0]["name"] = 12345
    for error in validation_errors(doc):
        assert "hunter2" not in error["message"]
        assert "12345" not in error["message"]


def test_unknown_keys_are_allowed_and_kept_as_the_schema_has_no_additional_properties() -> None:
    doc = _valid_doc()
    doc["x-vendor"] = {"anything": [1, 2]}
    doc["packages"][0]["transport"]["headers"] = "ignored on stdio"
    doc["packages"][0]["postInstallInstructions"] = [{"description": "restart"}]
    model = validate_server_json(doc)
    assert model.model_extra == {"x-vendor": {"anything": [1, 2]}}


def test_snake_case_keys_are_unknown_extras_not_aliases() -> None:
    doc = _valid_doc()
    del doc["packages"][0]["environmentVariables"][0]["isSecret"]
    doc["packages"][0]["environmentVariables"][0]["is_secret"] = True
    model = validate_server_json(doc)
    assert model.packages is not None
    env = model.packages[0].environment_variables
    assert env is not None
    assert env[0].is_secret is False


def test_a_remote_url_may_start_with_a_declared_template_variable() -> None:
    doc = _valid_doc()
    doc["remotes"] = [{"type": "sse", "url": "{baseUrl}/sse", "variables": {"baseUrl": {"isRequired": True}}}]
    assert validation_errors(doc) == []
    doc["remotes"][0]["variables"] = {}
    assert [e["rule"] for e in validation_errors(doc)] == ["url-variable"]


def test_a_trailing_newline_does_not_satisfy_a_pattern_end_anchor() -> None:
    # Python's re (used by the jsonschema package) lets "$" match before a final "\n";
    # ECMA-262 and Go (the official registry) do not. We follow ECMA-262 and Go.
    doc = _valid_doc()
    doc["name"] = "io.github.acme/weather\n"
    assert [e["rule"] for e in validation_errors(doc)] == ["pattern"]


@pytest.mark.parametrize(
    "version",
    ["^1.2.3", "~1.2.3", ">=1.2.3", "< 2", "=1.0.0", "1.2.3 - 2.0.0", "1.2 || 1.3", "1.x", "1.2.*", "*"],
)
def test_range_syntax_is_recognised_as_a_range(version: str) -> None:
    assert looks_like_version_range(version)


@pytest.mark.parametrize(
    "version", ["1.2.3", "2.0.0-rc.1", "1.0.0-next", "1.0.0-linux.x64", "0.0.1-seed", "", "2024.10"]
)
def test_a_single_version_is_not_a_range(version: str) -> None:
    assert not looks_like_version_range(version)


def test_every_catalogue_document_passes_our_rules_and_the_official_schema(
    official_server_schema: dict[str, Any],
) -> None:
    validator = jsonschema.Draft7Validator(official_server_schema)
    for doc in _catalogue():
        assert validation_errors(doc) == [], doc["name"]
        assert list(validator.iter_errors(doc)) == [], doc["name"]


def test_the_catalogue_covers_the_release_shapes_the_registry_must_handle() -> None:
    docs = _catalogue()
    per_server = Counter(doc["name"] for doc in docs)
    assert len(per_server) >= 14
    assert all(3 <= count <= 6 for count in per_server.values())
    assert len({(doc["name"], doc["version"]) for doc in docs}) == len(docs)
    versions = [doc["version"] for doc in docs]
    assert {"2.0.0-rc.1", "1.1.0-beta.2", "1.0.0-alpha.9", "1.0.0-alpha.10"} <= set(versions)
    packages = [p for doc in docs for p in doc.get("packages", [])]
    remotes = [r for doc in docs for r in doc.get("remotes", [])]
    assert {"npm", "pypi", "oci", "nuget", "mcpb", "cargo"} <= {p["registryType"] for p in packages}
    assert all("fileSha256" in p for p in packages if p["registryType"] == "mcpb")
    assert {"streamable-http", "sse"} <= {r["type"] for r in remotes}
    assert any(r.get("variables") for r in remotes)
    headers = [h for r in remotes for h in r.get("headers", [])]
    assert any(h.get("isSecret") and h.get("isRequired") for h in headers)
    env = [e for p in packages for e in p.get("environmentVariables", [])]
    assert any(e.get("isSecret") for e in env) and any("default" in e for e in env)


# --- agreement with the official schema, by mutation -------------------------------------

# Generated text avoids the places where Python's ``re`` (inside the jsonschema package)
# and the ECMA-262/Go regex semantics we implement disagree: a trailing "\n" before "$",
# non-ASCII digits for "\d", and U+001C..U+001F, which only Python counts as "\s".
ALPHABET = string.ascii_letters + string.digits + " ./-_:{}~<>$^*@#\t\n" + "é中\u00a0"
KEYS = [
    "name", "description", "version", "type", "url", "value", "valueHint", "isRequired", "isSecret",
    "isRepeated", "format", "choices", "default", "headers", "variables", "registryType", "identifier",
    "transport", "fileSha256", "src", "sizes", "mimeType", "theme", "source", "packages", "remotes",
    "x-extra", "is_required",
]  # fmt: skip
WORDS = [
    "latest", "stdio", "sse", "streamable-http", "named", "positional", "filepath", "number", "image/png",
    "image/gif", "dark", "light", "any", "48x48", "48", "https://example.com/mcp", "http://x.io/sse",
    "{baseUrl}/mcp", "{1bad}/mcp", "ws://x.io", SHA, SHA.upper(), "io.github.x/y", "a/b/c", "", " ",
    "1.0.0", "^1.0.0", "1.x",
]  # fmt: skip
SUBTREES: list[Any] = [
    {"type": "stdio"},
    {"type": "sse", "url": "https://example.com/sse"},
    {"type": "streamable-http", "url": "https://example.com/mcp", "variables": {"v": {}}},
    {"type": "positional", "value": "x"},
    {"type": "named", "name": "--x"},
    {"name": "X_TOKEN", "isSecret": True},
    {"src": "https://example.com/i.png"},
    {"registryType": "npm", "identifier": "x", "transport": {"type": "stdio"}},
]

_text = st.text(alphabet=ALPHABET, max_size=12).filter(lambda s: not s.endswith("\n"))
_strings = st.one_of(
    st.sampled_from(WORDS),
    _text,
    st.sampled_from([0, 1, 2, 99, 100, 101, 199, 200, 201, 254, 255, 256]).map(lambda n: "a" * n),
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.just(1.5), _strings)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=2),
    st.dictionaries(st.sampled_from(KEYS), _scalars, max_size=2),
    st.sampled_from(SUBTREES).map(copy.deepcopy),
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


def _mutate(doc: Any, data: st.DataObject) -> Any:
    path = data.draw(st.sampled_from(_paths(doc)))
    operation = data.draw(st.sampled_from(["delete", "replace", "add", "replace"]))
    if not path:
        return data.draw(_values) if operation == "replace" else doc
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    target = parent[path[-1]]
    if operation == "delete":
        del parent[path[-1]]
    elif operation == "replace":
        parent[path[-1]] = data.draw(_values)
    elif isinstance(target, dict):
        target[data.draw(st.sampled_from(KEYS))] = data.draw(_values)
    elif isinstance(target, list):
        target.append(data.draw(_values))
    return doc


def _assert_same_verdict(doc: Any, validator: jsonschema.Draft7Validator) -> list[dict[str, str]]:
    """Our schema-layer verdict equals the official one; returns all our errors.

    Registry rules (name-format, version-range, URL rules...) go beyond the schema on
    purpose, so only the schema-layer rules are compared with the official verdict.
    """
    errors = validation_errors(doc)
    schema_errors = [e for e in errors if e["rule"] in SCHEMA_RULES]
    assert (not schema_errors) == validator.is_valid(doc), (doc, errors)
    return errors


def test_every_leaf_of_the_baseline_replaced_or_deleted_gets_the_official_verdict(
    official_server_schema: dict[str, Any],
) -> None:
    validator = jsonschema.Draft7Validator(official_server_schema)
    base = _valid_doc()
    text_probes: list[Any] = [*WORDS, None, 0, [], *("a" * n for n in (100, 101, 200, 201, 255, 256))]
    other_probes: list[Any] = [None, True, 0, "x", [], {}]
    checked = 0
    for path in _paths(base)[1:]:
        parent: Any = base
        for step in path[:-1]:
            parent = parent[step]
        probes = text_probes if isinstance(parent[path[-1]], str) else other_probes
        for probe in ["<delete>", *probes]:
            doc = copy.deepcopy(base)
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if probe == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(probe)
            _assert_same_verdict(doc, validator)
            checked += 1
    assert checked > 1000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_our_schema_verdict_agrees_with_the_official_schema(
    data: st.DataObject,
    official_server_schema: dict[str, Any],
    seed_servers: list[dict[str, Any]],
) -> None:
    bases = [*seed_servers, *_catalogue(), _valid_doc()]
    doc: Any = copy.deepcopy(data.draw(st.sampled_from(bases)))
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate(doc, data)
    validator = jsonschema.Draft7Validator(official_server_schema)
    errors = _assert_same_verdict(doc, validator)
    event("official: valid" if validator.is_valid(doc) else "official: invalid")
    if errors and all(e["rule"] not in SCHEMA_RULES for e in errors):
        event("rejected by a registry rule only")
    if not errors:
        assert isinstance(validate_server_json(doc), ServerDetail)
