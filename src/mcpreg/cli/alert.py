"""``mcpreg alert``: the alert rules of an environment and their firings.

``add`` creates or replaces a rule: ``--kind errorRate`` (``--threshold``, ``--window``,
``--min-requests``), ``health`` (``--state``) or ``rollback``, delivered to ``--webhook``
and signed with a secret read from ``--secret-env VAR`` or ``--secret-file F`` (never
from the command line; a replace may leave it out and keeps the old one). ``list`` shows
the rules, ``remove`` removes one, ``firings`` shows what fired and how it was delivered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.files import secret_from
from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote, when

app = typer.Typer(
    help="Alerts: error-rate, health and rollback rules, and their firings.", no_args_is_help=True
)

Env = Annotated[str, typer.Argument(help="The environment.", show_default=False)]
Name = Annotated[str, typer.Argument(help="The rule's name.", show_default=False)]


@app.command("add")
def add(
    env: Env,
    name: Name,
    kind: Annotated[str, typer.Option("--kind", help="errorRate, health or rollback.")],
    webhook: Annotated[str, typer.Option("--webhook", help="The URL alerts are POSTed to.")],
    secret_env: Annotated[
        str | None, typer.Option("--secret-env", help="Read the signing secret from this variable.")
    ] = None,
    secret_file: Annotated[
        Path | None, typer.Option("--secret-file", help="Read the signing secret from this file.")
    ] = None,
    server: Annotated[str | None, typer.Option("--server", help="Only this server.")] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="errorRate: the error rate (0.05 is 5%).")
    ] = None,
    window: Annotated[str | None, typer.Option("--window", help="errorRate: over this window (5m).")] = None,
    min_requests: Annotated[
        int | None, typer.Option("--min-requests", help="errorRate: judge only on this many requests.")
    ] = None,
    state: Annotated[str | None, typer.Option("--state", help="health: degraded or unhealthy.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds the webhook may take.")] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Create or replace the alert rule NAME of ENV."""
    rule: dict[str, Any] = {"kind": kind, "url": webhook}
    given = {
        "secret": secret_from(secret_env, secret_file),
        "server": server,
        "threshold": threshold,
        "window": window,
        "minRequests": min_requests,
        "state": state,
        "timeoutSeconds": timeout,
    }
    rule.update({key: value for key, value in given.items() if value is not None})
    with remote(url) as registry:
        row = registry.set_alert_rule(env, name, rule)
    if as_json:
        print_json(row)
    else:
        done(f"alert {escape(name)} ({escape(kind)}) set in {escape(env)}")


@app.command("list")
def list_rules(env: Env, url: Url = None, as_json: AsJson = False) -> None:
    """The alert rules of ENV."""
    with remote(url) as registry:
        rows = registry.alert_rules(env)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"no alert rules in {escape(env)}")
        return
    table = new_table("name", "kind", "server", "condition", "webhook", "updated", title=f"alerts in {env}")
    for row in rows:
        table.add_row(
            cell(row["name"]),
            cell(row["kind"]),
            cell(row.get("server") or "(every server)"),
            cell(_condition(row)),
            cell(row["url"]),
            when(row.get("updatedAt")),
        )
    out.print(table)


def _condition(row: dict[str, Any]) -> str:
    if row["kind"] == "errorRate":
        return (
            f"errors > {row['threshold']:.1%} over {row['window']} s (at least {row['minRequests']} requests)"
        )
    if row["kind"] == "health":
        return f"health {row['state']} or worse"
    return "an automatic rollback"


@app.command("remove")
def remove(env: Env, name: Name, url: Url = None) -> None:
    """Remove the alert rule NAME of ENV (its firings stay, as history)."""
    with remote(url) as registry:
        registry.delete_alert_rule(env, name)
    done(f"alert {escape(name)} removed from {escape(env)}")


@app.command("firings")
def firings(
    env: Env,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's firings.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 20,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """What fired in ENV, newest first, and how each was delivered."""
    with remote(url) as registry:
        rows = registry.alert_firings(env, rule=rule, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"no alerts fired in {escape(env)}")
        return
    table = new_table(
        "id", "rule", "fired", "resolved", "what", "delivery", "attempts", title=f"alerts fired in {env}"
    )
    for row in rows:
        last = row["attemptLog"][-1] if row["attemptLog"] else {}
        delivery = row["delivery"] + (f" ({last.get('error')})" if last.get("error") else "")
        table.add_row(
            cell(row["id"]),
            cell(row["rule"]),
            when(row["firedAt"]),
            when(row.get("resolvedAt")) if row["kind"] != "rollback" else "",
            cell(row["summary"]),
            cell(delivery),
            cell(row["attempts"]),
        )
    out.print(table)
