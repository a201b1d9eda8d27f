"""Reading and changing releases: versions, show, diff, deprecate, delete, restore, duplicate."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote, split_ref, when
from mcpreg.cli.tables import facts_grid
from mcpreg.client import Release

Message = Annotated[str | None, typer.Option("--message", "-m", help="Why; shown to everyone who reads it.")]
STATE_STYLE = {"active": "green", "draft": "yellow", "deprecated": "magenta", "deleted": "red"}


def state(value: str) -> str:
    style = STATE_STYLE.get(value, "white")
    return f"[{style}]{escape(value)}[/{style}]"


def versions(
    name: Annotated[str, typer.Argument(help="Server name.")], url: Url = None, as_json: AsJson = False
) -> None:
    """Every version newest first (SemVer order), with its state and channels."""
    with remote(url) as registry:
        rows = registry.versions(name)
    if as_json:
        print_json([r.raw for r in rows])
        return
    table = new_table("version", "state", "channels", "published", "by", title=name)
    for r in rows:
        published = r.official.get("publishedAt") if r.status != "draft" else None
        table.add_row(
            escape(r.version),
            state(r.status),
            cell(r.channels),
            when(published),
            cell(r.lifecycle.get("createdBy")),
        )
    out.print(table)


def show(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION|@CHANNEL]", help="Defaults to @latest.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """One release: its facts, packages, remotes and declared configuration."""
    name, version = split_ref(ref)
    with remote(url) as registry:
        release = registry.get_server(name, version=version)
    if as_json:
        print_json(release.raw)
        return
    render_release(release)


def render_release(release: Release) -> None:
    doc = release.server
    facts = facts_grid()
    facts.add_row("name", escape(release.name))
    facts.add_row("version", escape(release.version))
    facts.add_row("state", state(release.status))
    if release.official.get("statusMessage"):
        facts.add_row("message", escape(str(release.official["statusMessage"])))
    facts.add_row("channels", cell(release.channels))
    if release.official.get("publishedAt") and release.status != "draft":
        facts.add_row("published", when(release.official.get("publishedAt")))
    facts.add_row("description", escape(release.description))
    for key in ("title", "websiteUrl"):
        if doc.get(key):
            facts.add_row(key, escape(str(doc[key])))
    if isinstance(doc.get("repository"), dict):
        facts.add_row("repository", escape(str(doc["repository"].get("url", ""))))
    out.print(facts)
    packages = doc.get("packages") or []
    if packages:
        table = new_table("registry", "identifier", "version", "transport", title="packages")
        for p in packages:
            transport = p.get("transport", {}).get("type") if isinstance(p.get("transport"), dict) else None
            table.add_row(
                cell(p.get("registryType")),
                cell(p.get("identifier")),
                cell(p.get("version")),
                cell(transport),
            )
        out.print(table)
    remotes = doc.get("remotes") or []
    if remotes:
        table = new_table("type", "url", title="remotes")
        for r in remotes:
            table.add_row(cell(r.get("type")), cell(r.get("url")))
        out.print(table)
    declared = _declared(doc)
    if declared:
        table = new_table("name", "required", "secret", "default", "where", title="configuration")
        for where, item in declared:
            table.add_row(
                cell(item.get("name")),
                cell(bool(item.get("isRequired"))),
                cell(bool(item.get("isSecret"))),
                cell(item.get("default")),
                escape(where),
            )
        out.print(table)


def _declared(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for p in doc.get("packages") or []:
        found.extend((f"env of {p.get('identifier')}", v) for v in p.get("environmentVariables") or [])
    for r in doc.get("remotes") or []:
        found.extend((f"header of {r.get('url')}", h) for h in r.get("headers") or [])
    return [(where, item) for where, item in found if isinstance(item, dict)]


def _value(value: Any) -> str:
    return escape(json.dumps(value, ensure_ascii=False)) if value is not None else ""


def diff(
    name: Annotated[str, typer.Argument(help="Server name.")],
    old: Annotated[str, typer.Argument(metavar="A", help="Version or channel to compare from.")],
    new: Annotated[str, typer.Argument(metavar="B", help="Version or channel to compare to.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """What changed from A to B: additions green, deletions red, edits blue."""
    with remote(url) as registry:
        result = registry.diff(name, old, new)
    if as_json:
        print_json(result)
        return
    out.print(f"[bold]{escape(name)}[/bold] {escape(str(result['from']))} → {escape(str(result['to']))}")
    changes = result.get("changes") or []
    if not changes:
        out.print("no changes")
    for change in changes:
        path = escape(str(change.get("path")))
        op = change.get("op")
        if op == "added":
            out.print(f"[green]+ {path}: {_value(change.get('new'))}[/green]")
        elif op == "removed":
            out.print(f"[red]- {path}: {_value(change.get('old'))}[/red]")
        else:
            out.print(f"[blue]~ {path}: {_value(change.get('old'))} → {_value(change.get('new'))}[/blue]")


RUNNING = "dev.mcpreg/running"
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Delete even where it runs as a stable or canary release (recorded in the journal); "
        "otherwise deploy another version there first.",
    ),
]


def _set_status(
    ref: str, status: str, verb: str, message: str | None, url: str | None, as_json: bool, force: bool = False
) -> None:
    name, version = split_ref(ref, version_required=True)
    assert version is not None
    with remote(url) as registry:
        release = registry.set_status(name, version, status, message, force=force)
    if as_json:
        print_json(release.raw)
        return
    done(f"{verb} {escape(name)} {escape(release.version)}")
    where = release.meta.get(RUNNING)
    if isinstance(where, list) and where:
        places = ", ".join(
            f"{escape(str(p.get('environment')))} ({escape(str(p.get('track')))})"
            for p in where
            if isinstance(p, dict)
        )
        out.print(f"[yellow]it still runs in {places}[/yellow]")


def _status_command(status: str, verb: str) -> Any:
    def command(
        ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
        message: Message = None,
        url: Url = None,
        as_json: AsJson = False,
    ) -> None:
        _set_status(ref, status, verb, message, url, as_json)

    return command


def delete(
    ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
    message: Message = None,
    force: Force = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Delete a release: hidden from discovery; its number is never reused.

    A release that runs somewhere (stable or canary) is refused unless --force.
    """
    _set_status(ref, "deleted", "deleted", message, url, as_json, force=force)


def duplicate(
    ref: Annotated[str, typer.Argument(metavar="NAME@VERSION", help="The release to copy.")],
    new_version: Annotated[str, typer.Argument(metavar="NEW_VERSION", help="The new draft's version.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Copy a release into a new draft, ready to edit and publish."""
    name, version = split_ref(ref, version_required=True)
    assert version is not None
    with remote(url) as registry:
        release = registry.duplicate(name, version, new_version)
    if as_json:
        print_json(release.raw)
    else:
        done(f"draft {escape(name)} {escape(release.version)} copied from {escape(version)}")


def register(app: typer.Typer) -> None:
    app.command("versions")(versions)
    app.command("show")(show)
    app.command("diff")(diff)
    for name, status, verb, help_text in (
        ("deprecate", "deprecated", "deprecated", "Deprecate a release: still served, flagged to clients."),
        ("restore", "active", "restored", "Restore a deprecated or deleted release to active."),
    ):
        app.command(name, help=help_text)(_status_command(status, verb))
    app.command("delete")(delete)
    app.command("duplicate")(duplicate)
