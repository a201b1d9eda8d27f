"""Find the line of a JSON pointer in the text of a JSON document.

``validate`` reports violations as JSON pointers; people fix files by line. This scans
the text once (it is already known to be valid JSON) and records, for every pointer,
the line where its member's key starts (or where the value starts, for array items and
the root). A pointer to something absent (a required member that is missing) falls back
to its nearest present ancestor: the object the member should be added to.
"""

from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from mcpreg.domain.pointer import escape_token

_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[str, int] = {}

    def line(self, position: int) -> int:
        return bisect.bisect_left(self.newlines, position) + 1

    def space(self, position: int) -> int:
        match = _SPACE.match(self.text, position)
        return match.end() if match else position

    def value(self, position: int, pointer: str, anchor: int | None) -> int:
        """Scan the value at ``position``; return the position after it."""
        position = self.space(position)
        self.lines.setdefault(pointer, self.line(position if anchor is None else anchor))
        opening = self.text[position]
        if opening == "{":
            return self.members(position + 1, pointer)
        if opening == "[":
            return self.items(position + 1, pointer)
        if opening == '"':
            return int(scanstring(self.text, position + 1)[1])
        match = _SCALAR.match(self.text, position)
        if match is None:
            raise ValueError(f"not JSON at offset {position}")
        return match.end()

    def members(self, position: int, pointer: str) -> int:
        position = self.space(position)
        if self.text[position] == "}":
            return position + 1
        while True:
            key_at = self.space(position)
            key, position = scanstring(self.text, key_at + 1)
            position = self.space(position) + 1  # the colon
            position = self.space(self.value(position, f"{pointer}/{escape_token(key)}", key_at))
            if self.text[position] == "}":
                return position + 1
            position += 1  # the comma

    def items(self, position: int, pointer: str) -> int:
        position = self.space(position)
        if self.text[position] == "]":
            return position + 1
        index = 0
        while True:
            position = self.space(self.value(position, f"{pointer}/{index}", None))
            if self.text[position] == "]":
                return position + 1
            position += 1
            index += 1


def pointer_lines(text: str) -> dict[str, int]:
    """Every JSON pointer in ``text`` mapped to its line (1-based); ``""`` is the root."""
    scanner = _Scanner(text)
    scanner.value(0, "", None)
    return scanner.lines


def line_of(lines: dict[str, int], pointer: str | None) -> int | None:
    """The line of ``pointer``, or of its nearest present ancestor."""
    if pointer is None:
        return None
    current = pointer if pointer.startswith("/") or pointer == "" else "/" + pointer
    while True:
        if current in lines:
            return lines[current]
        if not current:
            return None
        current = current.rsplit("/", 1)[0]
