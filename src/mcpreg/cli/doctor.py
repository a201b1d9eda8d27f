"""``mcpreg migrate`` and ``mcpreg doctor``: prepare a database, and check a deployment."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from mcpreg.cli.local import fail
from mcpreg.crypto import KeyRing
from mcpreg.db import migrate as migrations
from mcpreg.db.engine import make_null_pool_engine
from mcpreg.errors import RegistryError
from mcpreg.services import doctor as checks
from mcpreg.settings import Settings

out = Console()
STYLE = {checks.OK: "green", checks.WARN: "yellow", checks.FAIL: "bold red"}


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except RegistryError as exc:
        fail(exc)
        raise


def migrate() -> None:
    """Bring the database schema to this build's head (safe to run from several pods at once)."""
    settings = _settings()
    engine = make_null_pool_engine(settings.database_url)
    try:
        before = migrations.current_revision(engine)
        migrations.upgrade(engine)
        print(f"schema at {migrations.current_revision(engine)} (was {before or 'empty'})")
    finally:
        engine.dispose()


def _run_checks(settings: Settings) -> list[checks.Check]:
    from mcpreg.api.config import load_app_keyring  # the key ring exactly as `serve` loads it

    found = list(checks.settings_checks(settings))
    keyring: KeyRing | None = None
    try:
        keyring = load_app_keyring(settings)
    except RegistryError as exc:
        found.append(checks.Check("key ring", checks.FAIL, exc.detail))
    else:
        detail = f"{len(keyring.ids)} key(s), primary {keyring.primary_id}"
        found.append(checks.Check("key ring", checks.OK, detail))
    engine = make_null_pool_engine(settings.database_url)
    try:
        database, readable = checks.database_checks(engine)
        found.extend(database)
        if readable:
            with Session(engine) as session:
                if keyring is not None:
                    found.extend(checks.secret_checks(session, keyring))
                found.extend(checks.upstream_checks(session))
    finally:
        engine.dispose()
    return found


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check the configuration before going live: exits 1 if any check fails."""
    found = _run_checks(_settings())
    failed = any(check.status == checks.FAIL for check in found)
    if as_json:
        print(json.dumps({"ok": not failed, "checks": [asdict(check) for check in found]}))
    else:
        table = Table("check", "status", "detail", expand=False)
        for check in found:
            table.add_row(check.name, f"[{STYLE[check.status]}]{check.status}[/]", check.detail)
        out.print(table)
        out.print("[bold red]problems found[/]" if failed else "[green]ready to go live[/]")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    app.command("doctor")(doctor)
