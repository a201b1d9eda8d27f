"""``mcpreg validate`` and ``mcpreg publish``: check a server.json locally, then push it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.files import UnreadableFile, read_text
from mcpreg.cli.locate import line_of, pointer_lines
from mcpreg.cli.remote import AsJson, Url, done, err, fail, print_json, remote, usage
from mcpreg.client import RegistryClientError

ServerJson = Annotated[
    Path,
    typer.Argument(
        metavar="[SERVER_JSON]", dir_okay=False, help="The server.json to read.", show_default=True
    ),
]


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    message: str
    line: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "message": self.message, "line": self.line}


def check(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The document in ``path`` and every rule it breaks, each located by line."""
    if not path.is_file():
        usage(f"{path} does not exist (give the path of a server.json)", "SERVER_JSON")
    try:
        text = read_text(path)
    except UnreadableFile as exc:
        fail(str(exc))
    return check_text(text, str(path))


def check_text(text: str, label: str) -> tuple[dict[str, Any], list[Problem]]:
    """The server.json in ``text`` (named ``label`` in errors) and every rule it breaks."""
    from mcpreg.domain.serverjson import validation_errors
    from mcpreg.domain.versions import parse_version
    from mcpreg.errors import ValidationFailed

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{label}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
    errors = validation_errors(doc)
    version = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(version, str):
        try:
            parse_version(version, field="/version")
        except ValidationFailed as exc:
            errors.append({"field": "/version", "rule": "semver", "message": exc.detail})
    lines = pointer_lines(text)
    problems = [Problem(e["field"], e["rule"], e["message"], line_of(lines, e["field"])) for e in errors]
    return doc, sorted(problems, key=lambda p: p.line or 0)


def show_problems(path: Path | str, problems: list[Problem]) -> None:
    for problem in problems:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        err.print(
            f"{escape(where)}: [bold]{escape(problem.field or '/')}[/bold] "
            f"{escape(problem.message)} [dim]({escape(problem.rule)})[/dim]"
        )


def validate(
    path: ServerJson = Path("server.json"),
    as_json: AsJson = False,
) -> None:
    """Check a server.json against the schema and registry rules, without a registry (and the
    testsets.json beside it, when there is one)."""
    doc, problems = check(path)
    beside = path.parent / TESTSETS
    sets = testset_problems(beside)
    if as_json:
        everything = [p.as_dict() for p in problems] + [{**p.as_dict(), "file": str(beside)} for p in sets]
        print_json({"valid": not problems and not sets, "errors": everything})
    elif not problems and not sets:
        done(
            f"{escape(str(path))} is valid: {escape(str(doc.get('name')))} {escape(str(doc.get('version')))}"
        )
    else:
        show_problems(path, problems)
        show_problems(beside, sets)
        count = len(problems) + len(sets)
        err.print(f"[red]{count} problem{'s' if count != 1 else ''}[/red] in {escape(str(path))}")
    if problems or sets:
        raise typer.Exit(1)


def testset_problems(beside: Path) -> list[Problem]:
    """The first rule a testsets.json breaks (the registry's rules, checked here), or none;
    nothing when there is no such file."""
    if not beside.is_file():
        return []
    from mcpreg.domain.testsets import parse_file
    from mcpreg.errors import ValidationFailed

    try:
        parse_file(json.loads(read_text(beside)))
    except UnreadableFile as exc:
        return [Problem("/", "utf-8", str(exc), None)]
    except json.JSONDecodeError as exc:
        return [Problem("/", "json", f"not valid JSON: {exc.msg}", exc.lineno)]
    except ValidationFailed as exc:
        return [Problem(exc.field or "/", "testset", exc.detail, None)]
    return []


def publish(
    path: ServerJson = Path("server.json"),
    draft: Annotated[
        bool, typer.Option("--draft", help="Store an editable draft, invisible to discovery.")
    ] = False,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Then point this channel (e.g. next) at it.")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Validate a server.json locally, then publish it (or store it as a draft)."""
    if draft and channel:
        usage("a channel points at a published release, not a draft: drop --channel or --draft", "--channel")
    doc, problems = check(path)
    if problems:
        show_problems(path, problems)
        fail(f"{path} is not valid; nothing was sent")
    testsets = _testsets_beside(path)
    with remote(url) as registry:
        release = registry.publish(doc, draft=draft)
        if channel:
            try:
                registry.set_channel(release.name, channel, release.version)
            except RegistryClientError:
                what = f"{escape(release.name)} {escape(release.version)}"
                err.print(f"published {what}, but the channel was not set:")
                raise
        stored = _upload_testsets(registry, release.name, release.version, testsets) if not draft else []
    if testsets and draft:
        err.print(
            f"{TESTSETS} beside {escape(str(path))} is stored when the release is published, not with a draft"
        )
    if as_json:
        print_json(release.raw)
        return
    what = "stored draft" if draft else "published"
    tags = ", ".join(release.channels + ([channel] if channel else []))
    done(
        f"{what} [bold]{escape(release.name)}[/bold] {escape(release.version)}"
        + (f" ({escape(tags)})" if tags else "")
    )
    if stored:
        done(f"test sets {escape(', '.join(s['name'] for s in stored))} of {escape(release.name)} stored")


TESTSETS = "testsets.json"


def _testsets_beside(path: Path) -> dict[str, dict[str, Any]]:
    """The test sets of a ``testsets.json`` next to the server.json (checked), or none."""
    beside = path.parent / TESTSETS
    if not beside.is_file():
        return {}
    from mcpreg.cli.testset import read_sets

    return read_sets(beside, None, bundle=True)


def _upload_testsets(
    registry: Any, name: str, version: str, testsets: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    if not testsets:
        return []
    from mcpreg.cli.testset import upload

    try:
        return upload(registry, name, testsets)
    except RegistryClientError:
        err.print(f"published {escape(name)} {escape(version)}, but its test sets were not stored:")
        raise


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("publish")(publish)
