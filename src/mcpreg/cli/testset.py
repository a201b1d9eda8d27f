"""``mcpreg testset``: a server's test sets (tool calls with expected results) and their runs.

``put`` stores a set from a JSON file: one set's document (``{description?,
timeoutSeconds?, cases}``, named by ``--name`` or the file's stem) or a ``testsets.json``
(``{"testsets": {NAME: SET, ...}}``, every set in it). The file is checked locally first
and nothing is sent while any case breaks a rule. ``run`` runs one on the canary (else
stable) of an environment, or ``--version``, prints each case with pass or fail, and exits
1 unless every case passed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.files import UnreadableFile, read_text
from mcpreg.cli.remote import AsJson, Url, cell, done, fail, new_table, out, print_json, remote, usage, when

app = typer.Typer(
    help="Test sets: tool calls with expected results, run on a version before promoting it.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="SERVER", help="Server name.")]
SetName = Annotated[str, typer.Argument(metavar="SET", help="Test set name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment to run it in.")]

RESULT = {"pass": "green", "fail": "bold red", "error": "yellow"}


def result_text(result: Any) -> str:
    return f"[{RESULT.get(str(result), 'white')}]{escape(str(result))}[/]"


def read_sets(path: Path, name: str | None, *, bundle: bool = False) -> dict[str, dict[str, Any]]:
    """The sets in ``path`` by name, checked by the same rules the registry applies
    (``bundle``: it must be a ``testsets.json``)."""
    from mcpreg.domain.testsets import parse_file, parse_testset
    from mcpreg.errors import ValidationFailed

    if not path.is_file():
        usage(f"{path} does not exist (give a test set JSON file)", "FILE")
    try:
        document = json.loads(read_text(path))
    except UnreadableFile as exc:
        fail(str(exc))
    except json.JSONDecodeError as exc:
        fail(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
    try:
        if bundle or (isinstance(document, dict) and "testsets" in document):
            if name is not None:
                usage("a testsets.json names its sets itself: drop --name", "--name")
            return {s.name: document["testsets"][s.name] for s in parse_file(document)}
        chosen = name or path.stem
        parse_testset(chosen, document)
    except ValidationFailed as exc:
        fail(f"{path}: {exc.field}: {exc.detail}")
    return {chosen: document}


@app.command("put")
def put(
    name: Name,
    path: Annotated[
        Path, typer.Argument(metavar="FILE", dir_okay=False, help="A set's JSON, or a testsets.json.")
    ],
    set_name: Annotated[
        str | None, typer.Option("--name", help="The set's name [default: the file's name without .json].")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Store the test set in FILE (or every set of a testsets.json) for SERVER."""
    found = read_sets(path, set_name)
    with remote(url) as registry:
        stored = upload(registry, name, found)
    if as_json:
        print_json(stored if len(stored) > 1 else stored[0])
        return
    for answer in stored:
        done(
            f"test set [bold]{escape(answer['name'])}[/bold] of {escape(name)} stored "
            f"(revision {answer['revision']}, {len(answer['cases'])} cases)"
        )


@app.command("list")
def list_sets(name: Name, url: Url = None, as_json: AsJson = False) -> None:
    """The test sets of SERVER."""
    with remote(url) as registry:
        rows = registry.testsets(name)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"{escape(name)} has no test sets")
        return
    table = new_table(
        "set", "cases", "revision", "updated", "by", "description", title=f"test sets of {name}"
    )
    for row in rows:
        table.add_row(
            cell(row.get("name")),
            cell(row.get("cases")),
            cell(row.get("revision")),
            when(row.get("updatedAt")),
            cell(row.get("updatedBy")),
            cell(row.get("description")),
        )
    out.print(table)


def upload(registry: Any, name: str, found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Store each set of ``found`` for ``name``; the stored sets."""
    return [registry.put_testset(name, set_, document) for set_, document in found.items()]


def _expectation(expect: dict[str, Any]) -> str:
    shown = [
        f"{kind} {json.dumps(expect[kind], ensure_ascii=False)}"
        for kind in ("exact", "subset", "regex")
        if kind in expect
    ]
    if expect.get("isError"):
        shown.append("isError")
    return "; ".join(shown)


@app.command("show")
def show(name: Name, set_name: SetName, url: Url = None, as_json: AsJson = False) -> None:
    """One test set of SERVER with its cases."""
    with remote(url) as registry:
        answer = registry.testset(name, set_name)
    if as_json:
        print_json(answer)
        return
    every = f"revision {answer.get('revision')}, {answer.get('timeoutSeconds')} s a call"
    title = f"{name} test set {set_name} ({every})"
    table = new_table("case", "tool", "arguments", "expect", title=title)
    for case in answer.get("cases") or []:
        table.add_row(
            cell(case.get("name")),
            cell(case.get("tool")),
            cell(json.dumps(case.get("arguments") or {}, ensure_ascii=False)),
            cell(_expectation(case.get("expect") or {})),
        )
    out.print(table)


def print_run(run: dict[str, Any]) -> None:
    """Each case with its result, then the run's."""
    track = f" ({run['track']})" if run.get("track") else ""
    out.print(
        f"test set [bold]{escape(str(run.get('testset')))}[/bold] on {escape(str(run.get('server')))} "
        f"{escape(str(run.get('version')))}{escape(track)} in {escape(str(run.get('environment')))}: "
        f"run {run.get('id')}"
    )
    for case in run.get("cases") or []:
        took = f"[dim]({case.get('elapsedMs')} ms)[/dim]"
        line = f"  {result_text(case.get('result'))} {escape(str(case.get('name')))} {took}"
        if case.get("result") != "pass":
            line += f"\n      {escape(str(case.get('reason')))}"
        out.print(line)
    out.print(f"{result_text(run.get('result'))}: {escape(str(run.get('detail')))}")


@app.command("run")
def run(
    name: Name,
    set_name: SetName,
    env: Env,
    version: Annotated[
        str | None, typer.Option("--version", help="The version [default: the canary, else stable].")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Run a test set on SERVER's canary (else stable) in --env, or on --version; exit 1 unless it passed."""
    from mcpreg.domain.testsets import MAX_RUN

    with remote(url, timeout=MAX_RUN + 30) as registry:  # the registry answers once the run ended
        answer = registry.run_testset(name, set_name, env, version=version)
    if as_json:
        print_json(answer)
    else:
        print_run(answer)
    if answer.get("result") != "pass":
        raise typer.Exit(1)


@app.command("runs")
def runs(
    name: Name,
    set_name: SetName,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many, newest first.")] = 20,
    run_id: Annotated[int | None, typer.Option("--id", help="One run, with each case.")] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """The runs of a test set, newest first (or one with --id)."""
    with remote(url) as registry:
        if run_id is not None:
            one = registry.testset_run(name, set_name, run_id)
        else:
            rows = registry.testset_runs(name, set_name, limit=limit)
    if run_id is not None:
        if as_json:
            print_json(one)
        else:
            print_run(one)
        return
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"test set {escape(set_name)} of {escape(name)} has not run yet")
        return
    table = new_table(
        "id", "result", "version", "env", "by", "started", "failing", title=f"runs of {set_name}"
    )
    for row in rows:
        table.add_row(
            cell(row.get("id")),
            result_text(row.get("result")),
            cell(row.get("version")),
            cell(row.get("environment")),
            cell(row.get("startedBy")),
            when(row.get("startedAt")),
            cell(", ".join(row.get("failing") or [])),
        )
    out.print(table)


@app.command("rm")
def remove(name: Name, set_name: SetName, url: Url = None) -> None:
    """Remove a test set of SERVER (its runs stay)."""
    with remote(url) as registry:
        registry.delete_testset(name, set_name)
    done(f"test set {escape(set_name)} of {escape(name)} removed")
