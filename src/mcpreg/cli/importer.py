"""``mcpreg import PATH``: load server.json documents into the database."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mcpreg.cli.local import local_session
from mcpreg.domain.legacy import iter_import_documents
from mcpreg.domain.principal import Principal
from mcpreg.errors import BadRequest
from mcpreg.services.importer import import_items

out = Console()
IMPORTER = Principal(name="cli-import", scopes=frozenset({"admin"}), token_id=0)


def import_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="JSON file to import."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a JSON list of server.json documents, a saved /v0.1/servers page, or the 2025-05 format."""
    from mcpreg.cli.local import fail

    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        fail(BadRequest(f"{path} is not valid JSON: {exc}", field=str(path)))
        return
    items = list(iter_import_documents(data))
    with (
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json,
        ) as progress,
        local_session() as session,
    ):
        task = progress.add_task("import", total=len(items))
        report = import_items(session, IMPORTER, items, progress=lambda n: progress.advance(task, n))
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    out.print(f"[green]landed[/green] {len(report.landed)}   [yellow]skipped[/yellow] {len(report.skipped)}")
    for label, reason in report.skipped:
        out.print(f"  skipped {label}: {reason}", highlight=False, soft_wrap=True)
    for label, note in report.notes:
        out.print(f"  note {label}: {note}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
