"""Release diffs between two server.json documents."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.diff import Change, diff_documents


def server(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "io.github.example/weather",
        "description": "Weather for MCP clients",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@example/weather",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
                "environmentVariables": [
                    {"name": "API_KEY", "isSecret": True},
                    {"name": "REGION", "default": "eu"},
                ],
                "packageArguments": [
                    {"type": "named", "name": "--port", "value": "8080"},
                    {"type": "positional", "valueHint": "config_file"},
                    {"type": "positional", "valueHint": "data_dir"},
                ],
            },
            {
                "registryType": "oci",
                "identifier": "docker.io/example/weather",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
            },
        ],
        "remotes": [
            {
                "type": "streamable-http",
                "url": "https://weather.example.com/mcp",
                "headers": [{"name": "Authorization"}, {"name": "X-Tenant"}],
            },
            {"type": "sse", "url": "https://weather.example.com/sse"},
        ],
    }
    document.update(overrides)
    return document


def ops(changes: list[Change]) -> list[tuple[str, str]]:
    return [(change.op, change.path) for change in changes]


# -- behaviour -------------------------------------------------------------------------------------


def test_identical_documents_have_no_changes() -> None:
    assert diff_documents(server(), server()) == []


def test_a_changed_scalar_is_reported_with_both_values() -> None:
    changes = diff_documents(server(), server(description="Forecasts"))
    assert [change.to_dict() for change in changes] == [
        {"op": "changed", "path": "/description", "old": "Weather for MCP clients", "new": "Forecasts"}
    ]


def test_added_and_removed_keys_carry_none_on_the_absent_side() -> None:
    old = server(title="Weather")
    new = server(websiteUrl="https://example.com")
    del new["description"]
    changes = diff_documents(old, new)
    assert [change.to_dict() for change in changes] == [
        {"op": "removed", "path": "/description", "old": "Weather for MCP clients", "new": None},
        {"op": "removed", "path": "/title", "old": "Weather", "new": None},
        {"op": "added", "path": "/websiteUrl", "old": None, "new": "https://example.com"},
    ]


def test_a_key_added_with_a_null_value_is_still_added() -> None:
    assert ops(diff_documents({}, {"title": None})) == [("added", "/title")]


def test_reordering_packages_and_remotes_is_no_change() -> None:
    new = server()
    new["packages"].reverse()
    new["remotes"].reverse()
    assert diff_documents(server(), new) == []


def test_a_package_version_bump_is_changed_at_the_index_in_the_new_document() -> None:
    new = server()
    new["packages"].reverse()
    new["packages"][1]["version"] = "1.1.0"  # the npm package, now second
    assert [change.to_dict() for change in diff_documents(server(), new)] == [
        {"op": "changed", "path": "/packages/1/version", "old": "1.0.0", "new": "1.1.0"}
    ]


def test_a_removed_package_is_addressed_by_its_index_in_the_old_document() -> None:
    new = server()
    old_npm = new["packages"].pop(0)
    new["packages"].insert(0, {"registryType": "pypi", "identifier": "weather-mcp", "version": "1.0.0"})
    changes = diff_documents(server(), new)
    assert ops(changes) == [("removed", "/packages/0"), ("added", "/packages/0")]
    assert changes[0].old == old_npm
    assert changes[1].new["registryType"] == "pypi"


def test_a_package_with_a_new_identifier_is_a_removal_and_an_addition() -> None:
    new = server()
    new["packages"][1]["identifier"] = "ghcr.io/example/weather"
    assert ops(diff_documents(server(), new)) == [("removed", "/packages/1"), ("added", "/packages/1")]


def test_remotes_are_matched_by_url() -> None:
    new = server()
    new["remotes"] = [new["remotes"][1], {**new["remotes"][0], "type": "sse"}]
    assert [change.to_dict() for change in diff_documents(server(), new)] == [
        {"op": "changed", "path": "/remotes/1/type", "old": "streamable-http", "new": "sse"}
    ]


def test_environment_variables_and_headers_are_matched_by_name() -> None:
    new = server()
    variables = new["packages"][0]["environmentVariables"]
    variables.reverse()
    variables[0]["default"] = "us"  # REGION
    headers = new["remotes"][0]["headers"]
    headers.reverse()
    headers.append({"name": "X-Trace"})
    assert [change.to_dict() for change in diff_documents(server(), new)] == [
        {
            "op": "changed",
            "path": "/packages/0/environmentVariables/0/default",
            "old": "eu",
            "new": "us",
        },
        {"op": "added", "path": "/remotes/0/headers/2", "old": None, "new": {"name": "X-Trace"}},
    ]


def test_named_arguments_are_matched_by_name_whatever_their_position() -> None:
    new = server()
    arguments = new["packages"][0]["packageArguments"]
    arguments.append(arguments.pop(0))
    arguments[2]["value"] = "9090"
    assert ops(diff_documents(server(), new)) == [("changed", "/packages/0/packageArguments/2/value")]


def test_swapping_positional_arguments_changes_the_whole_argument_list() -> None:
    new = server()
    arguments = new["packages"][0]["packageArguments"]
    arguments[1], arguments[2] = arguments[2], arguments[1]
    changes = diff_documents(server(), new)
    assert ops(changes) == [("changed", "/packages/0/packageArguments")]
    assert changes[0].new == arguments


def test_packages_with_a_repeated_key_are_compared_as_a_whole() -> None:
    twin = {"registryType": "npm", "identifier": "same", "version": "1"}
    old = {"packages": [twin, {**twin, "version": "2"}]}
    new = {"packages": [{**twin, "version": "2"}, twin]}
    assert ops(diff_documents(old, new)) == [("changed", "/packages")]


def test_lists_of_scalars_change_as_a_whole() -> None:
    old = {"icons": [{"src": "a.png", "sizes": ["16x16", "32x32"]}]}
    new = {"icons": [{"src": "a.png", "sizes": ["32x32", "16x16"]}]}
    assert [change.to_dict() for change in diff_documents(old, new)] == [
        {"op": "changed", "path": "/icons", "old": old["icons"], "new": new["icons"]}
    ]


def test_pointer_tokens_escape_tilde_and_slash() -> None:
    old = {"_meta": {"io.example/a~b": 1}}
    new = {"_meta": {"io.example/a~b": 2}}
    assert ops(diff_documents(old, new)) == [("changed", "/_meta/io.example~1a~0b")]


def test_a_boolean_differs_from_the_number_one_but_one_equals_one_point_zero() -> None:
    assert ops(diff_documents({"a": 1}, {"a": True})) == [("changed", "/a")]
    assert diff_documents({"a": 1}, {"a": 1.0}) == []


def test_an_object_replaced_by_a_scalar_is_one_change() -> None:
    assert ops(diff_documents({"repository": {"url": "x"}}, {"repository": "x"})) == [
        ("changed", "/repository")
    ]


def test_changes_are_sorted_by_path_with_numeric_indices() -> None:
    old = {"packages": [{"registryType": "npm", "identifier": f"p{i}", "version": "1"} for i in range(12)]}
    new = copy.deepcopy(old)
    for entry in new["packages"]:
        entry["version"] = "2"
    paths = [change.path for change in diff_documents(old, new)]
    assert paths == [f"/packages/{i}/version" for i in range(12)]


def test_change_values_do_not_alias_the_documents() -> None:
    old: dict[str, Any] = {"repository": {"url": "x"}}
    change = diff_documents(old, {})[0]
    change.old["url"] = "mutated"
    assert old["repository"]["url"] == "x"


# -- properties ------------------------------------------------------------------------------------

keys = st.text(alphabet="ab/~01", min_size=1, max_size=3)
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["x", "y"])
leaves = scalars | st.lists(scalars, max_size=3)
documents = st.dictionaries(
    keys,
    st.recursive(leaves, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=8),
    max_size=4,
)

package = st.fixed_dictionaries(
    {
        "registryType": st.sampled_from(["npm", "pypi", "oci"]),
        "identifier": st.sampled_from(["a", "b", "c"]),
        "version": st.sampled_from(["1.0.0", "1.1.0"]),
    },
    optional={"runtimeHint": st.sampled_from(["npx", "uvx"])},
)
packages = st.lists(package, max_size=5, unique_by=lambda p: (p["registryType"], p["identifier"]))
remote = st.fixed_dictionaries(
    {"type": st.sampled_from(["sse", "streamable-http"]), "url": st.sampled_from(["https://a", "https://b"])}
)
remotes = st.lists(remote, max_size=2, unique_by=lambda r: r["url"])
servers = st.fixed_dictionaries(
    {"name": st.sampled_from(["io.x/a", "io.x/b"]), "packages": packages, "remotes": remotes},
    optional={"title": st.sampled_from(["A", "B"])},
)


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply(document: dict[str, Any], changes: list[Change]) -> dict[str, Any]:
    """Replay changes on a copy of a document made of objects only (arrays are values)."""
    result = copy.deepcopy(document)
    for change in changes:
        *parents, last = [unescape(token) for token in change.path.split("/")[1:]]
        target = result
        for token in parents:
            target = target[token]
        if change.op == "removed":
            del target[last]
        else:
            target[last] = copy.deepcopy(change.new)
    return result


@given(documents)
def test_a_document_has_no_changes_against_itself(document: dict[str, Any]) -> None:
    assert diff_documents(document, copy.deepcopy(document)) == []


@given(servers, st.randoms())
def test_permuting_packages_and_remotes_is_no_change(document: dict[str, Any], rng: random.Random) -> None:
    shuffled = copy.deepcopy(document)
    rng.shuffle(shuffled["packages"])
    rng.shuffle(shuffled["remotes"])
    assert diff_documents(document, shuffled) == []


@given(documents, documents)
def test_applying_the_changes_to_old_gives_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply(old, diff_documents(old, new)) == new


@given(documents, documents)
def test_swapping_the_arguments_swaps_added_and_removed(a: dict[str, Any], b: dict[str, Any]) -> None:
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    forward = {(flip[c.op], c.path, repr((c.new, c.old))) for c in diff_documents(a, b)}
    assert forward == {(c.op, c.path, repr((c.old, c.new))) for c in diff_documents(b, a)}


@given(servers, servers)
def test_swapping_servers_swaps_added_and_removed_entries(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Inside a matched entry the index follows the new document, so compare with indices masked."""
    flip = {"added": "removed", "removed": "added", "changed": "changed"}

    def masked(path: str) -> str:
        return "/".join("#" if token.isdigit() else token for token in path.split("/"))

    forward = sorted((flip[c.op], masked(c.path), repr((c.new, c.old))) for c in diff_documents(a, b))
    assert forward == sorted((c.op, masked(c.path), repr((c.old, c.new))) for c in diff_documents(b, a))
    top_level = {(flip[c.op], c.path) for c in diff_documents(a, b) if c.path.count("/") == 2}
    assert top_level == {(c.op, c.path) for c in diff_documents(b, a) if c.path.count("/") == 2}


@given(documents, documents)
def test_diffing_is_deterministic_and_reports_each_path_once_per_op(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    changes = diff_documents(a, b)
    assert len({(c.op, c.path) for c in changes}) == len(changes)
    assert changes == diff_documents(a, b)
