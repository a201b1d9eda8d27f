"""The CLI's pure helpers: words for the registry's fields, file decoding, table layout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from mcpreg.cli.files import UnreadableFile, decode, read_text
from mcpreg.cli.tables import new_table, when
from mcpreg.cli.words import cli_detail, cli_word


@pytest.mark.parametrize(
    ("command", "field", "word"),
    [
        ("promote", "to", "--to"),
        ("promote", "force", "--force"),
        ("promote", "from", "--from"),
        ("promote", "version", "NAME@VERSION"),
        ("rollback", "version", "--to"),
        ("deploy", "version", "NAME@VERSION"),
        ("deploy", "weight", "--canary"),
        ("config", "version", "--version"),
        ("vars set", "version", "--version"),
        ("vars set", "name", "VARIABLE"),
        ("duplicate", "/version", "NEW_VERSION"),
        ("history", "environment", "--env"),
        ("approve", "id", "ID"),
    ],
)
def test_each_command_names_the_registry_field_as_the_user_typed_it(
    command: str, field: str, word: str
) -> None:
    assert cli_word(command, field) == word


def test_a_pointer_into_a_published_file_stays_a_pointer() -> None:
    assert cli_word("publish", "/version") is None
    assert cli_word("draft create", "/packages/0/version") is None
    assert cli_word("promote", None) is None


def test_api_words_in_a_detail_become_cli_words() -> None:
    detail = "promoting from 'dev' to 'production' skips staging; send force: true to do it anyway"
    assert cli_detail("promotion_skips_environment", detail).endswith("add --force to do it anyway")
    assert cli_detail("version_exists", "send force: true") == "send force: true"


def test_a_byte_order_mark_is_dropped_and_other_encodings_are_named() -> None:
    assert decode(b"\xef\xbb\xbf{}", "f.json") == "{}"
    with pytest.raises(UnreadableFile, match=r"byte 0xe9 at offset 2"):
        decode(b'{"\xe9": 1}', "f.json")
    with pytest.raises(UnreadableFile, match="UTF-16"):
        decode("{}".encode("utf-16"), "f.json")


def test_a_path_that_cannot_be_read_is_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read"):
        read_text(tmp_path)


def test_times_carry_their_date_in_utc() -> None:
    assert when("2030-01-31T18:00:00Z") == "2030-01-31 18:00:00Z"
    assert when("2030-01-31T19:00:00+01:00") == "2030-01-31 18:00:00Z"
    assert when(None) == "" and when("soon") == "soon"


def render(width: int, rows: list[tuple[str, ...]], *headers: str) -> list[str]:
    table = new_table(*headers, title="t")
    for row in rows:
        table.add_row(*row)
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


def test_a_table_too_wide_for_its_words_prints_records_and_keeps_every_character() -> None:
    headers = ("at", "action", "version", "replaced", "strategy", "weight", "by", "notes")
    row = ("2030-01-31 18:00:00Z", "rollback", "1.10.0-rc.1", "1.0.0", "immediate", "", "ops-team", "why")
    narrow = render(60, [row], *headers)
    assert max(map(len, narrow)) <= 60
    assert any(line.startswith("version") and "1.10.0-rc.1" in line for line in narrow)
    assert not any(line.startswith("weight") for line in narrow), "empty cells are left out"
    wide = render(160, [row], *headers)
    assert any("1.10.0-rc.1" in line and "rollback" in line for line in wide), "one row, one line"
