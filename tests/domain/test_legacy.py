"""Import shapes: current server.json lists, saved /v0.1/servers responses, the 2025-05 legacy seed."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mcpreg.domain.legacy import LEGACY, SERVER_JSON, SERVER_LIST, ImportItem, iter_import_documents
from mcpreg.domain.serverjson import validation_errors
from mcpreg.errors import ValidationFailed


def _legacy_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "4e9cf4cf-71f6-4aca-bae8-2d10a29ca2e0",
        "name": "io.github.acme/tides",
        "description": "Tide tables for harbours.",
        "repository": {"url": "https://github.com/acme/tides", "source": "github", "id": "12345"},
        "version_detail": {
            "version": "0.0.1-seed",
            "release_date": "2025-05-16T18:56:49Z",
            "is_latest": True,
        },
        "packages": [
            {
                "registry_name": "docker",
                "name": "acme/tides",
                "version": "",
                "package_arguments": [
                    {
                        "description": "Harbour code",
                        "is_required": True,
                        "format": "string",
                        "value": "",
                        "default": "",
                        "type": "positional",
                        "value_hint": "harbour",
                    }
                ],
                "environment_variables": [{"description": "<api key>", "name": "TIDES_KEY"}],
            }
        ],
    }
    entry.update(overrides)
    return entry


def _current_doc(name: str = "io.github.acme/tides", version: str = "1.0.0") -> dict[str, Any]:
    return {
        "name": name,
        "description": "Tide tables for harbours.",
        "version": version,
        "packages": [{"registryType": "npm", "identifier": "@acme/tides", "transport": {"type": "stdio"}}],
    }


def _only(data: object) -> ImportItem:
    (item,) = list(iter_import_documents(data))
    return item


# --- the legacy format ------------------------------------------------------------------


def test_a_legacy_docker_entry_becomes_an_oci_stdio_package_with_renamed_keys() -> None:
    item = _only([_legacy_entry()])
    assert item.source_format == LEGACY
    assert item.skip_reason is None
    assert item.label == "io.github.acme/tides@0.0.1-seed"
    assert item.published_at == "2025-05-16T18:56:49Z"
    assert item.document == {
        "name": "io.github.acme/tides",
        "description": "Tide tables for harbours.",
        "repository": {"url": "https://github.com/acme/tides", "source": "github", "id": "12345"},
        "version": "0.0.1-seed",
        "packages": [
            {
                "registryType": "oci",
                "identifier": "acme/tides",
                "packageArguments": [
                    {
                        "description": "Harbour code",
                        "isRequired": True,
                        "format": "string",
                        "type": "positional",
                        "valueHint": "harbour",
                    }
                ],
                "environmentVariables": [{"description": "<api key>", "name": "TIDES_KEY"}],
                "transport": {"type": "stdio"},
            }
        ],
    }


def test_registry_state_of_a_legacy_entry_is_not_copied_into_the_document() -> None:
    document = _only([_legacy_entry()]).document
    assert document is not None
    assert "id" not in document and "version_detail" not in document
    assert "is_latest" not in json.dumps(document)


def test_a_legacy_entry_with_only_an_unknown_package_is_skipped_with_the_reason() -> None:
    entry = _legacy_entry()
    entry["packages"][0]["registry_name"] = "unknown"
    item = _only([entry])
    assert item.document is None
    assert item.skip_reason == 'packages[0]: registry_name "unknown" has no registry type'


def test_an_unknown_package_next_to_a_known_one_is_dropped_with_a_note() -> None:
    entry = _legacy_entry()
    unknown = copy.deepcopy(entry["packages"][0]) | {"registry_name": "unknown"}
    entry["packages"].insert(0, unknown)
    item = _only([entry])
    assert item.document is not None
    assert [p["registryType"] for p in item.document["packages"]] == ["oci"]
    assert item.notes == ('dropped packages[0]: registry_name "unknown" has no registry type',)


def test_a_legacy_sse_remote_keeps_its_url_and_headers() -> None:
    remote = {
        "transport_type": "sse",
        "url": "https://tides.acme.example.com/sse",
        "headers": [{"name": "X-Key", "is_secret": True, "is_required": True, "value": ""}],
    }
    entry = _legacy_entry(remotes=[remote])
    entry["packages"][0]["registry_name"] = "unknown"
    item = _only([entry])
    assert item.document is not None
    assert item.document["remotes"] == [
        {
            "type": "sse",
            "url": "https://tides.acme.example.com/sse",
            "headers": [{"name": "X-Key", "isSecret": True, "isRequired": True}],
        }
    ]
    assert len(item.notes) == 1


def test_a_legacy_remote_without_a_transport_type_cannot_stand_alone() -> None:
    entry = _legacy_entry(remotes=[{"transport_type": "", "url": "https://x.example.com/sse"}])
    del entry["packages"]
    item = _only([entry])
    assert item.skip_reason == 'remotes[0]: transport_type "" is not a remote transport'


def test_a_long_legacy_description_is_skipped_not_truncated() -> None:
    item = _only([_legacy_entry(description="d" * 101)])
    assert item.document is None
    assert item.skip_reason is not None
    assert item.skip_reason.startswith("/description:")
    assert item.skip_reason.endswith("(maxLength)")


def test_a_legacy_named_argument_that_repeats_its_flag_is_skipped_not_repaired() -> None:
    entry = _legacy_entry()
    entry["packages"][0]["package_arguments"] = [
        {"type": "named", "name": "--dir", "value": "--dir /tmp", "default": "", "format": "string"}
    ]
    item = _only([entry])
    assert item.skip_reason is not None
    assert item.skip_reason.startswith("/packages/0/packageArguments/0/value:")
    assert item.skip_reason.endswith("(argument-value-prefix)")


def test_a_legacy_entry_without_a_name_is_skipped() -> None:
    item = _only([_legacy_entry(name="")])
    assert (item.label, item.skip_reason) == ("#0", "legacy entry has no name")


def test_a_legacy_status_carries_over() -> None:
    assert _only([_legacy_entry(status="deprecated")]).status == "deprecated"
    assert _only([_legacy_entry(status="retired")]).document is None
    assert _only([_legacy_entry(status={"state": "active"})]).document is None


# --- the real legacy seed ---------------------------------------------------------------


@pytest.fixture(scope="module")
def legacy_seed(shared_reference: Path) -> list[Any]:
    return json.loads((shared_reference / "seed_2025_05_16.json").read_text())  # type: ignore[no-any-return]


def test_every_entry_of_the_legacy_seed_lands_or_says_why_not(legacy_seed: list[Any]) -> None:
    items = list(iter_import_documents(legacy_seed))
    assert len(legacy_seed) == 471
    assert [item.index for item in items] == list(range(471))
    assert all(item.source_format == LEGACY for item in items)
    assert all((item.document is None) == (item.skip_reason is not None) for item in items)
    landed = [item for item in items if item.document is not None]
    skipped = [item for item in items if item.skip_reason is not None]
    assert len(landed) + len(skipped) == 471
    # Pinned for the file of SOURCE.md (sha256 847c2367...): 302 packages are "unknown".
    assert (len(landed), len(skipped)) == (49, 422)
    reasons = Counter((item.skip_reason or "").split(":")[0] for item in skipped)
    assert reasons["packages[0]"] == 297
    assert reasons["legacy entry has no name"] == 7


def test_every_landed_legacy_document_passes_the_official_schema_and_our_rules(
    legacy_seed: list[Any], official_server_schema: dict[str, Any]
) -> None:
    validator = jsonschema.Draft7Validator(official_server_schema)
    for item in iter_import_documents(legacy_seed):
        if item.document is not None:
            assert list(validator.iter_errors(item.document)) == [], item.label
            assert validation_errors(item.document) == [], item.label


def test_converting_the_legacy_seed_leaves_the_input_untouched(legacy_seed: list[Any]) -> None:
    before = json.dumps(legacy_seed, sort_keys=True)
    list(iter_import_documents(legacy_seed))
    assert json.dumps(legacy_seed, sort_keys=True) == before


# --- current documents and saved server lists -------------------------------------------


def test_a_list_of_current_documents_is_imported_unchanged() -> None:
    docs = [_current_doc(version="1.0.0"), _current_doc(version="1.1.0")]
    items = list(iter_import_documents(docs))
    assert [item.source_format for item in items] == [SERVER_JSON, SERVER_JSON]
    assert [item.document for item in items] == docs
    assert items[0].document is docs[0]
    assert [item.label for item in items] == ["io.github.acme/tides@1.0.0", "io.github.acme/tides@1.1.0"]


def test_a_single_document_object_is_a_list_of_one() -> None:
    assert _only(_current_doc()).document == _current_doc()


def test_an_invalid_current_document_is_skipped_with_the_field_and_rule() -> None:
    doc = _current_doc()
    doc["packages"][0]["version"] = "latest"
    item = _only([doc])
    assert item.document is None
    assert item.skip_reason is not None
    assert item.skip_reason.startswith("/packages/0/version:")
    assert item.skip_reason.endswith("(not)")


def test_an_entry_that_is_not_an_object_is_skipped() -> None:
    item = _only([42])
    assert (item.label, item.document, item.skip_reason) == ("#0", None, "entry is not a JSON object")


def test_a_saved_server_list_keeps_each_release_status_and_publish_time() -> None:
    def response(version: str, status: str, published: str) -> dict[str, Any]:
        official = {"status": status, "publishedAt": published, "isLatest": False}
        return {
            "server": _current_doc(version=version),
            "_meta": {"io.modelcontextprotocol.registry/official": official},
        }

    saved = {
        "servers": [
            response("1.0.0", "deleted", "2025-09-01T10:00:00Z"),
            response("1.1.0", "deprecated", "2025-09-08T10:00:00Z"),
            response("1.2.0", "active", "2025-09-15T10:00:00Z"),
        ],
        "metadata": {"count": 3, "nextCursor": ""},
    }
    items = list(iter_import_documents(saved))
    assert [item.source_format for item in items] == [SERVER_LIST] * 3
    assert [item.status for item in items] == ["deleted", "deprecated", "active"]
    assert [item.published_at for item in items] == [
        "2025-09-01T10:00:00Z",
        "2025-09-08T10:00:00Z",
        "2025-09-15T10:00:00Z",
    ]
    assert all(item.document is not None and "_meta" not in item.document for item in items)


def test_a_server_list_entry_without_official_meta_is_active() -> None:
    item = _only({"servers": [{"server": _current_doc()}]})
    assert (item.status, item.source_format) == ("active", SERVER_LIST)


@pytest.mark.parametrize("status", ["archived", ["active"], 1])
def test_a_server_list_entry_with_an_unknown_status_is_skipped(status: object) -> None:
    meta = {"io.modelcontextprotocol.registry/official": {"status": status}}
    item = _only({"servers": [{"server": _current_doc(), "_meta": meta}]})
    assert item.document is None
    assert item.skip_reason is not None


def test_a_bare_list_of_server_responses_is_read_as_a_server_list() -> None:
    item = _only([{"server": _current_doc(), "_meta": {}}])
    assert item.source_format == SERVER_LIST
    assert item.document == _current_doc()


def test_a_server_list_whose_servers_is_not_an_array_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        iter_import_documents({"servers": {"a": 1}})
    assert (caught.value.code, caught.value.field) == ("validation_failed", "/servers")


@pytest.mark.parametrize("data", ["text", 3, None, True])
def test_data_of_no_known_shape_is_refused(data: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        iter_import_documents(data)
    assert (caught.value.code, caught.value.field) == ("validation_failed", "")
