"""Key-ring entries and rotation: ``mcpreg secrets generate-key`` and ``mcpreg secrets rotate``.

The commands of the ``secrets`` group that work on keys, not on secret values
(``mcpreg.cli.secrets``); both run locally, against ``MCPREG_DATABASE_URL``.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mcpreg.cli.local import err, fail, local_engine
from mcpreg.crypto import generate_entry, load_keyring
from mcpreg.errors import RegistryError
from mcpreg.services.rotation import DEFAULT_BATCH, RotationReport, rotate

out = Console()


def generate_key(
    key_id: str | None = typer.Option(None, "--id", help="The key id (default: k + UTC date + random hex)."),
) -> None:
    """Print a fresh KEYID:BASE64URL entry (32 random bytes) for MCPREG_SECRET_KEYS."""
    try:
        print(generate_entry(key_id))
    except RegistryError as exc:
        fail(exc)


def _print_report(report: RotationReport) -> None:
    out.print(
        f"primary key {report.key_id}: {report.total} secrets, {report.rewrapped} rewrapped, "
        f"{report.raced} changed meanwhile (already resealed), {report.failed} failed, "
        f"{report.remaining} not under the primary key"
        + (" (resumed an interrupted run)" if report.resumed else ""),
        highlight=False,
    )
    for failure in report.failures:
        where = failure.version or failure.environment or ""
        err.print(
            f"[red]failed[/red] {failure.server} {failure.scope} {where} {failure.name}: {failure.code}",
            highlight=False,
        )
    if report.complete:
        out.print("every secret is sealed under the primary key: older keys may now be dropped")


def rotate_command(
    batch_size: int = typer.Option(DEFAULT_BATCH, "--batch-size", min=1, help="Rows read per batch."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Rewrap every stored secret under the first key of MCPREG_SECRET_KEYS.

    Safe while the service runs and resumable if interrupted. Exits 1 unless every
    secret ends up under the primary key.
    """
    settings, engine = local_engine()
    try:
        keyring, warning = load_keyring(settings.environ, settings.data_dir, settings.dev)
        if warning:
            err.print(f"[yellow]warning[/yellow] {warning}", highlight=False)
        with Progress(
            TextColumn("rewrapping"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        ) as bar:
            task = bar.add_task("rewrap", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = rotate(engine, keyring, actor="cli", batch_size=batch_size, progress=progress)
    except RegistryError as exc:
        fail(exc)
        return
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(report.to_dict()))
    else:
        _print_report(report)
    if not report.complete:
        raise typer.Exit(1)
