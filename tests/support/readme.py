"""The README's fenced code blocks, by section, as the walkthrough test runs them.

A line ending in ``# not run by the walkthrough test: <reason>`` is one a reader runs
but the test cannot (a placeholder host, an endless ``--watch``); the test replaces it
with a no-op that keeps the line numbers. Everything else in a block runs as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NOT_RUN = "# not run by the walkthrough test:"
_FENCE = re.compile(r"^```(\w*)\s*$")
_HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, its text, and where it starts in the README."""

    section: str
    language: str
    code: str
    line: int  # of the opening fence, 1-based

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.section}, {self.language})"

    @property
    def skipped(self) -> list[str]:
        """The lines marked as not run, with their reasons."""
        return [line.strip() for line in self.code.splitlines() if NOT_RUN in line]

    def runnable(self) -> str:
        """The code with each marked line replaced by a no-op of the same indentation."""
        lines: list[str] = []
        for line in self.code.splitlines():
            if NOT_RUN in line:
                if lines and lines[-1].rstrip().endswith("\\"):
                    raise ValueError(f"{NOT_RUN} marks a whole command, not its last line: {line.strip()}")
                indent = line[: len(line) - len(line.lstrip())]
                line = indent + (": skipped" if self.language == "sh" else "pass  # skipped")
            lines.append(line)
        return "\n".join(lines) + "\n"


def blocks(readme: Path, heading: str, languages: tuple[str, ...] = ("sh", "python")) -> list[Block]:
    """The blocks in ``languages`` under ``heading`` (up to the next heading of its level or above)."""
    found: list[Block] = []
    level: int | None = None
    fence: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(readme.read_text().splitlines(), start=1):
        if fence is not None:
            if line.startswith("```"):
                language, start, body = fence
                if level is not None and language in languages:
                    found.append(Block(heading, language, "\n".join(body), start))
                fence = None
            else:
                fence[2].append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = (opening.group(1), number, [])
            continue
        title = _HEADING.match(line)
        if title:
            depth = len(title.group(1))
            if title.group(2) == heading:
                level = depth
            elif level is not None and depth <= level:
                break
    if level is None:
        raise LookupError(f"README.md has no heading {heading!r}")
    return found
