"""``mcpreg import PATH``: load server.json documents into the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mcpreg.cli.files import UTF8_BOM, UnreadableFile, decode
from mcpreg.cli.local import local_session
from mcpreg.domain.legacy import iter_import_documents
from mcpreg.domain.principal import Principal
from mcpreg.errors import BadRequest, RegistryError
from mcpreg.services.importer import import_items

out = Console()
IMPORTER = Principal(name="cli-import", scopes=frozenset({"admin"}), token_id=0)


def import_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="JSON file to import."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a JSON list of server.json documents, a saved /v0.1/servers page, or the 2025-05 format.

    Exits 1 when the file holds entries and none of them landed.
    """
    from mcpreg.cli.local import fail

    data = read_catalogue(path)
    try:
        items = list(iter_import_documents(data))
    except RegistryError as exc:
        fail(exc)
        raise
    with (
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json or not items,
        ) as progress,
        local_session() as session,
    ):
        task = progress.add_task("import", total=len(items))
        report = import_items(session, IMPORTER, items, progress=lambda n: progress.advance(task, n))
    if as_json:
        print(json.dumps(report.as_dict()))
    elif not items:
        out.print(f"nothing to import: {path} holds no server entries", highlight=False, soft_wrap=True)
    else:
        out.print(
            f"[green]landed[/green] {len(report.landed)}   [yellow]skipped[/yellow] {len(report.skipped)}"
        )
        for label, reason in report.skipped:
            out.print(f"  skipped {escape(label)}: {escape(reason)}", highlight=False, soft_wrap=True)
        for label, note in report.notes:
            out.print(f"  note {escape(label)}: {escape(note)}", highlight=False, soft_wrap=True)
    if items and not report.landed:
        skipped = f"all {len(items)} entries of {path} were skipped" if len(items) > 1 else "it was skipped"
        fail(BadRequest(f"nothing landed: {skipped}", code="nothing_landed"))


def read_catalogue(path: Path) -> Any:
    """The parsed JSON of ``path`` (a UTF-8 byte-order mark dropped); unreadable files exit 1."""
    from mcpreg.cli.local import fail

    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(BadRequest(f"cannot read {path}: {exc.strerror or exc}", field=str(path)))
        raise
    try:
        return orjson.loads(data.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        try:
            decode(data, str(path))
        except UnreadableFile as unreadable:
            fail(BadRequest(str(unreadable), field=str(path), code="not_utf8"))
        fail(BadRequest(f"{path} is not valid JSON: {exc}", field=str(path)))
        raise


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
