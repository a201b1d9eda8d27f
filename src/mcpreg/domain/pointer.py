"""JSON pointers (RFC 6901): how errors, diffs and checks name a place in a document.

A pointer is ``""`` for the whole document, else ``/`` before each reference token;
inside a token ``~`` is written ``~0`` and ``/`` is written ``~1`` (section 3).
"""

from __future__ import annotations

from collections.abc import Iterable

Token = str | int
"""An object key or an array index."""


def escape_token(token: str) -> str:
    """One reference token as a pointer writes it."""
    return token.replace("~", "~0").replace("/", "~1")


def to_pointer(path: Iterable[Token]) -> str:
    """The pointer for a sequence of object keys and array indices."""
    return "".join("/" + escape_token(str(token)) for token in path)


def tokens(pointer: str) -> list[str]:
    """The reference tokens of ``pointer``, unescaped (``[]`` for the whole document)."""
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
