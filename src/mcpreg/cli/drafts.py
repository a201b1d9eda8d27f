"""``mcpreg draft create|edit|publish``: prepare a release invisibly, then publish it.

A draft is a release nobody but its publishers can see; its server.json can be replaced
until it is published, after which it is immutable like every release. ``edit`` takes
the new server.json from a file, else from stdin when it is piped, else (at a terminal)
opens the draft in ``$VISUAL``/``$EDITOR``. Every document is validated locally first:
an invalid one is never sent.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.files import UnreadableFile, decode, read_text
from mcpreg.cli.publish import check, check_text, show_problems
from mcpreg.cli.remote import AsJson, Url, done, fail, out, print_json, remote, split_ref
from mcpreg.client import Registry, Release

app = typer.Typer(
    help="Drafts: create, edit and publish a release before anyone can see it.", no_args_is_help=True
)

Ref = Annotated[str, typer.Argument(metavar="NAME@VERSION", help="The draft.")]
File = Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False, help="The server.json to store.")]


def checked(doc: dict[str, Any], problems: list[Any], label: str) -> dict[str, Any]:
    if problems:
        show_problems(label, problems)
        fail(f"{label} is not valid; nothing was sent")
    return doc


def same_release(doc: dict[str, Any], name: str, version: str, label: str) -> None:
    """A draft keeps its name and version: refuse a document naming another, before sending it."""
    theirs = f"{doc.get('name')}@{doc.get('version')}"
    if theirs != f"{name}@{version}":
        fail(
            f"{label} is {theirs}, not {name}@{version}: a draft keeps its name and version "
            f"(mcpreg duplicate {name}@{version} NEW_VERSION copies it under a new version)"
        )


def show(release: Release, as_json: bool, what: str) -> None:
    if as_json:
        print_json(release.raw)
        return
    tags = f" ({escape(', '.join(release.channels))})" if release.channels else ""
    done(f"{what} [bold]{escape(release.name)}[/bold] {escape(release.version)}{tags}")


@app.command("create")
def create(path: File, url: Url = None, as_json: AsJson = False) -> None:
    """Store FILE as a new draft (validated locally first), invisible to discovery."""
    doc = checked(*check(path), str(path))
    with remote(url) as registry:
        release = registry.publish(doc, draft=True)
    show(release, as_json, "stored draft")
    if not as_json:
        ref = escape(f"{release.name}@{release.version}")
        out.print(
            f"  edit it with `mcpreg draft edit {ref} FILE`, publish it with `mcpreg draft publish {ref}`"
        )


@app.command("edit")
def edit(
    ref: Ref,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            dir_okay=False,
            help="The new server.json; without it, stdin when piped, else $EDITOR at a terminal.",
        ),
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Replace a draft's server.json (its name and version stay)."""
    name, version = split_ref(ref, version_required=True)
    assert version is not None
    doc: dict[str, Any] | None = None
    if path is not None:
        label = str(path)
        doc = checked(*check(path), label)
    elif not sys.stdin.isatty():
        label = "stdin"
        try:
            text = decode(sys.stdin.buffer.read(), label)
        except UnreadableFile as exc:
            fail(str(exc))
        doc = checked(*check_text(text, label), label)
    with remote(url) as registry:
        if doc is None:
            label = "the edited draft"
            doc = edit_in_editor(registry, name, version)
            if doc is None:
                out.print("no change: nothing was sent")
                return
        same_release(doc, name, version, label)
        release = registry.update_draft(name, version, doc)
    show(release, as_json, "updated draft")


def edit_in_editor(registry: Registry, name: str, version: str) -> dict[str, Any] | None:
    """The draft's server.json as edited in ``$VISUAL``/``$EDITOR``; None when left unchanged."""
    current = registry.get_server(name, version=version)
    if current.status != "draft":
        fail(
            f"{name}@{current.version} is {current.status}, not a draft: published releases never change "
            f"(mcpreg duplicate {name}@{current.version} NEW_VERSION makes an editable copy)"
        )
    text = json.dumps(current.server, indent=2, ensure_ascii=False) + "\n"
    edited = run_editor(text, f"{name.replace('/', '_')}@{version}")
    if edited == text:
        return None
    doc, problems = check_text(edited, "the edited draft")
    if problems:
        with tempfile.NamedTemporaryFile(
            "w", prefix="mcpreg-draft-", suffix=".json", delete=False, encoding="utf-8"
        ) as kept:
            kept.write(edited)
        show_problems(kept.name, problems)
        fail(
            f"the edited draft is not valid; nothing was sent. Your edit is in {kept.name}: "
            f"fix it, then run mcpreg draft edit {name}@{version} {kept.name}"
        )
    return doc


def run_editor(text: str, label: str) -> str:
    """``text`` as saved by ``$VISUAL``/``$EDITOR`` (else vi) from a temporary .json file."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="mcpreg-") as folder:
        path = Path(folder) / f"{label}.json"
        path.write_text(text, encoding="utf-8")
        try:
            finished = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError as exc:
            fail(f"cannot start the editor {editor!r} ($VISUAL or $EDITOR): {exc.strerror or exc}")
        if finished.returncode != 0:
            fail(f"the editor {editor!r} exited with {finished.returncode}; nothing was sent")
        try:
            return read_text(path)
        except UnreadableFile as exc:
            fail(str(exc))


@app.command("publish")
def publish(ref: Ref, url: Url = None, as_json: AsJson = False) -> None:
    """Publish a draft: from now on it is visible and immutable."""
    name, version = split_ref(ref, version_required=True)
    assert version is not None
    with remote(url) as registry:
        release = registry.publish_draft(name, version)
    show(release, as_json, "published")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="draft")
