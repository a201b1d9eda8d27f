"""``mcpreg mirror``: sync an upstream now, with a progress bar, and list its sync runs.

``sync`` asks the registry to sync (``POST /api/upstreams/{name}/sync``, which answers when
the sync ends) and meanwhile reads the run the registry records page by page, so the bar
moves with the pages applied and the counts of entries added, updated, unchanged and
refused. An upstream has no total to show, so the bar counts pages. A full sync also counts
the mirrored releases the upstream no longer lists (``vanished``: marked deleted here).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mcpreg.cli.remote import (
    AsJson,
    Url,
    cell,
    connect,
    done,
    err,
    new_table,
    out,
    print_json,
    refuse,
    remote,
    when,
)
from mcpreg.client import RegistryClientError

app = typer.Typer(help="Sync an upstream now and list its sync runs.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="The upstream's name.")]
POLL = 0.2  # seconds between two reads of the running sync


def _counts(run: dict[str, Any]) -> str:
    return (
        f"{run['pages']} pages · {run['added']} added · {run['updated']} updated · "
        f"{run['unchanged']} unchanged · {run['refused']} refused · {run['skipped']} skipped"
        + (f" · {run['vanished']} vanished" if run.get("kind") == "full" else "")
    )


@app.command("sync")
def sync(
    name: Name,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read everything again, not only what changed, and mark as vanished (deleted) "
            "what the upstream no longer lists.",
        ),
    ] = False,
    registry_url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Sync NAME now; incremental from the last checkpoint unless --full."""
    outcome: dict[str, Any] = {}
    watcher = connect(registry_url)
    try:
        with watcher:
            before = watcher.sync_runs(name, limit=1)
    except RegistryClientError as exc:
        refuse(exc)
    last_id = before[0]["id"] if before else 0

    def call() -> None:
        try:
            with connect(registry_url) as registry:
                outcome["run"] = registry.sync_upstream(name, full=full)
        except RegistryClientError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=call, daemon=True)
    with (
        Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json,
        ) as progress,
        connect(registry_url) as reader,
    ):
        task = progress.add_task(f"syncing {escape(name)}", total=None, counts="starting")
        worker.start()
        while worker.is_alive():
            worker.join(timeout=POLL)
            try:
                latest = reader.sync_runs(name, limit=1)
            except RegistryClientError:
                continue  # the answer of the sync itself says what went wrong
            if latest and latest[0]["id"] > last_id:
                progress.update(task, completed=latest[0]["pages"], counts=_counts(latest[0]))
    if "error" in outcome:
        refuse(outcome["error"])
    run = outcome["run"]
    if as_json:
        print_json(run)
        return
    resumed = ", resumed" if run["resumed"] else ""
    done(f"{escape(name)}: {run['kind']} sync{resumed} in {run['seconds']:.2f} s: {_counts(run)}")


@app.command("runs")
def runs(
    name: Name,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many runs, newest first.")] = 20,
    refused: Annotated[bool, typer.Option("--refused", help="List the entries each run refused.")] = False,
    registry_url: Url = None,
    as_json: AsJson = False,
) -> None:
    """NAME's sync runs, newest first: what each read and did, and how it ended."""
    with remote(registry_url) as registry:
        found = registry.sync_runs(name, limit=limit, refused=refused)
    if as_json:
        print_json(found)
        return
    table = new_table(
        "id",
        "started",
        "kind",
        "state",
        "pages",
        "added",
        "updated",
        "unchanged",
        "refused",
        "vanished",
        "seconds",
        "error",
    )
    for r in found:
        table.add_row(
            cell(r["id"]),
            when(r["startedAt"]),
            cell(r["kind"] + (" (resumed)" if r["resumed"] else "")),
            cell(r["state"]),
            cell(r["pages"]),
            cell(r["added"]),
            cell(r["updated"]),
            cell(r["unchanged"]),
            cell(r["refused"]),
            cell(r.get("vanished", 0)),
            f"{r['seconds']:.2f}",
            cell(r["error"]),
        )
    out.print(table)
    for r in found if refused else []:
        for entry in r.get("refusedEntries") or []:
            what = f"{escape(entry['name'])}@{escape(entry['version'])}"
            out.print(f"run {r['id']}: refused {what}: {escape(entry['reason'])}")
