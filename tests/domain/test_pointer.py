"""JSON pointers (RFC 6901): the one escaping rule every pointer in the registry uses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.pointer import escape_token, to_pointer, tokens


def test_to_pointer_joins_escaped_tokens() -> None:
    assert to_pointer(["packages", 0, "a/b~c"]) == "/packages/0/a~1b~0c"
    assert to_pointer([]) == ""


def test_tilde_is_escaped_before_slash_so_a_written_tilde_one_stays_itself() -> None:
    assert escape_token("~1") == "~01"
    assert tokens("/~01") == ["~1"]


def test_the_whole_document_has_no_tokens_and_an_empty_key_is_one() -> None:
    assert tokens("") == []
    assert tokens("/") == [""]


@given(st.lists(st.text()))
def test_tokens_read_back_what_to_pointer_wrote(path: list[str]) -> None:
    assert tokens(to_pointer(path)) == path
