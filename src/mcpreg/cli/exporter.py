"""``mcpreg export [PATH]``: write the catalogue in the saved /v0.1/servers format."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import typer
from rich.console import Console

from mcpreg.cli.local import local_session
from mcpreg.services.exporter import export_catalogue

err = Console(stderr=True)


def export_command(
    path: Path | None = typer.Argument(
        None, dir_okay=False, help="Where to write; standard output when omitted."
    ),
    include_deleted: bool = typer.Option(
        True, "--include-deleted/--no-deleted", help="Keep deleted releases."
    ),
) -> None:
    """Export every published release (with its status); 'mcpreg import' reads the file back."""
    with local_session(write=False) as session:
        data = export_catalogue(session, include_deleted=include_deleted)
    body = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    if path is None:
        sys.stdout.buffer.write(body + b"\n")
        return
    path.write_bytes(body + b"\n")
    err.print(f"exported {data['metadata']['count']} releases to {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
