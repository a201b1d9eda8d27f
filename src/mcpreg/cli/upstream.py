"""``mcpreg upstream``: declare the registries this one mirrors (admin token).

``add`` takes the upstream's ``/v0.1`` base URL, the namespace patterns it is mirrored for,
names to leave out, how often the background sync runs, and a bearer token read from a
file (never from the command line, where it would show in the process list and history).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, done, fail, new_table, out, print_json, remote, when

app = typer.Typer(
    help="Declare, list, show and remove the upstream registries this one mirrors.", no_args_is_help=True
)
Name = Annotated[str, typer.Argument(help="The upstream's name here, e.g. public.")]


def _token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the token file {path}: {exc}")


def _show(upstream: dict[str, Any]) -> None:
    table = new_table("field", "value")
    table.add_row("name", cell(upstream["name"]))
    table.add_row("url", cell(upstream["url"]))
    table.add_row("namespaces", cell(upstream["namespaces"] or ["(every name)"]))
    table.add_row("exclude", cell(upstream["exclude"]))
    table.add_row("interval", f"{upstream['intervalSeconds']} s")
    table.add_row("token", "set" if upstream["token"] else "none")
    last = upstream.get("lastRun")
    if last:
        table.add_row(
            "last sync",
            f"{cell(last['state'])} {cell(last['kind'])} at {when(last['startedAt'])}: "
            f"{last['added']} added, {last['updated']} updated, {last['refused']} refused"
            + (f", {last['vanished']} vanished" if last.get("vanished") else "")
            + (f" ({escape(last['error'])})" if last.get("error") else ""),
        )
    out.print(table)


@app.command("add")
def add(
    name: Name,
    url: Annotated[
        str, typer.Argument(help="The upstream's official API base, e.g. https://registry.example/v0.1.")
    ],
    namespaces: Annotated[
        list[str] | None,
        typer.Option(
            "--namespaces", help="Mirror names matching this pattern, e.g. 'io.github.*' (repeatable)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Leave names matching this pattern out (repeatable)."),
    ] = None,
    interval: Annotated[
        str, typer.Option("--interval", help="Background sync every 90s, 10m, 1h, 1d.")
    ] = "10m",
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="A file holding the upstream's bearer token.")
    ] = None,
    registry_url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Declare an upstream registry that speaks the official /v0.1 read API."""
    token = _token(token_file)
    with remote(registry_url) as registry:
        created = registry.add_upstream(
            name,
            url,
            namespaces=list(namespaces or []),
            exclude=list(exclude or []),
            interval=interval,
            token=token,
        )
    if as_json:
        print_json(created)
        return
    done(f"upstream {escape(name)} added: {escape(created['url'])}, every {created['intervalSeconds']} s")


@app.command("list")
def list_upstreams(registry_url: Url = None, as_json: AsJson = False) -> None:
    """Every declared upstream."""
    with remote(registry_url) as registry:
        found = registry.upstreams()
    if as_json:
        print_json(found)
        return
    table = new_table("name", "url", "namespaces", "exclude", "interval", "token")
    for u in found:
        table.add_row(
            cell(u["name"]),
            cell(u["url"]),
            cell(u["namespaces"]),
            cell(u["exclude"]),
            f"{u['intervalSeconds']} s",
            "set" if u["token"] else "",
        )
    out.print(table)


@app.command("show")
def show(name: Name, registry_url: Url = None, as_json: AsJson = False) -> None:
    """One upstream and its last sync."""
    with remote(registry_url) as registry:
        found = registry.upstream(name)
    if as_json:
        print_json(found)
        return
    _show(found)


@app.command("remove")
def remove(name: Name, registry_url: Url = None) -> None:
    """Forget an upstream; the releases it brought stay, as local ones."""
    with remote(registry_url) as registry:
        registry.remove_upstream(name)
    done(f"upstream {escape(name)} removed")
