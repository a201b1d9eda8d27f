"""Tables and times for people: fit the terminal, never lose a character, always show the date.

Rich sizes a table to the console, whose width is the terminal's (or ``COLUMNS``, or 80
when the output is not a terminal). Every column wraps at spaces (a timestamp breaks
between its date and time) and folds words too long for it, so a table never runs past
the width and never hides text behind an ellipsis; given more columns, it uses them.
When even the longest words of every column cannot sit side by side, the rows print as
records instead (see :class:`FittingTable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from mcpreg.domain.timestamps import read_rfc3339

FREE_TEXT = ("notes", "description", "value", "message")


def when(value: Any) -> str:
    """An RFC 3339 timestamp for a table: its UTC date and time, to the second."""
    if not isinstance(value, str) or not value:
        return ""
    moment = read_rfc3339(value)
    if moment is None:
        return escape(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


class FittingTable(Table):
    """A table that prints its rows as records when its columns cannot fit side by side.

    Squeezing eight columns into 80 characters folds every word into slivers; when the
    narrowest layout that keeps words whole is wider than the console, each row prints
    as a block of ``header  value`` lines instead (values fold at the console's width;
    empty cells are left out).
    """

    def __init__(self, *headers: str, title: str | None = None) -> None:
        super().__init__(*(Column(h, overflow="fold") for h in headers), title=title)
        self.headers = headers
        self.records: list[tuple[RenderableType | None, ...]] = []

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*renderables, **kwargs)
        self.records.append(renderables)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.__rich_measure__(console, options).minimum <= options.max_width:
            yield from super().__rich_console__(console, options)
        else:
            yield from self.as_records()

    def as_records(self) -> Iterator[RenderableType]:
        if self.title:
            yield Text.from_markup(str(self.title), style="bold")
        for index, record in enumerate(self.records):
            grid = facts_grid()
            for header, value in zip(self.headers, record, strict=False):
                if value is not None and value != "":
                    grid.add_row(escape(header), value)
            if index:
                yield Text("")
            yield grid


def new_table(*headers: str, title: str | None = None, wrap: tuple[str, ...] = FREE_TEXT) -> Table:
    """A table of ``headers`` that fits the console (see :class:`FittingTable`).

    ``wrap`` names free-text columns; every column wraps and folds alike now, so it is
    accepted for the callers that pass it and otherwise unused.
    """
    del wrap
    return FittingTable(*headers, title=escape(title) if title else None)


def facts_grid() -> Table:
    """Two columns, label and value, for one record's facts; long values fold."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def cell(value: Any) -> str:
    """A table cell: escaped text; lists joined with commas; nothing for None."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, bool):
        return "yes" if value else ""
    return escape(str(value))
