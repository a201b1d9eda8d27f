"""``mcpreg channel``: named pointers to releases, like npm dist-tags."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote

app = typer.Typer(
    help="Point channels (next, beta, ...) at releases; `latest` moves by itself.", no_args_is_help=True
)
Name = Annotated[str, typer.Argument(help="Server name.")]
Channel = Annotated[str, typer.Argument(help="Channel name, e.g. next.")]


@app.command("set")
def set_(
    name: Name,
    channel: Channel,
    version: Annotated[str, typer.Argument(help="The published version it points to.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Point CHANNEL at VERSION (moving it if it pointed elsewhere)."""
    with remote(url) as registry:
        result = registry.set_channel(name, channel, version)
    if as_json:
        print_json(result)
    else:
        done(f"{escape(name)} {escape(channel)} → {escape(str(result.get('version')))}")


@app.command("rm")
def rm(name: Name, channel: Channel, url: Url = None, as_json: AsJson = False) -> None:
    """Remove CHANNEL (the release stays)."""
    with remote(url) as registry:
        registry.delete_channel(name, channel)
    if as_json:
        print_json({"server": name, "channel": channel, "deleted": True})
    else:
        done(f"removed channel {escape(channel)} of {escape(name)}")


@app.command("list")
def list_(name: Name, url: Url = None, as_json: AsJson = False) -> None:
    """Every channel of NAME and the version it points to."""
    with remote(url) as registry:
        rows = registry.channels(name)
    if as_json:
        print_json(rows)
        return
    table = new_table("channel", "version", "state", title=name)
    for row in rows:
        table.add_row(cell(row.get("channel")), cell(row.get("version")), cell(row.get("status")))
    out.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="channel")
