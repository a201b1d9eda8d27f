"""``mcpreg health``: the prober's state of what runs of a server in an environment."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, new_table, out, print_json, remote, when

Name = Annotated[str, typer.Argument(help="Server name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]

STYLE = {"healthy": "green", "degraded": "yellow", "unhealthy": "bold red"}


def state_text(state: Any) -> str:
    """A state, coloured; ``unchecked`` before the prober's first look."""
    if not isinstance(state, str):
        return "[dim]unchecked[/dim]"
    return f"[{STYLE.get(state, 'white')}]{escape(state)}[/]"


def summary(report: dict[str, Any]) -> str:
    """``stable 1.0.0 healthy, canary 1.1.0 unhealthy``, and the report's note."""
    parts = [
        f"{cell(v.get('track'))} {cell(v.get('version'))} {state_text(v.get('state'))}"
        for v in report.get("versions") or []
    ]
    line = "health: " + (", ".join(parts) if parts else "nothing deployed")
    note = report.get("note")
    return f"{line}\n[yellow]{escape(note)}[/yellow]" if note else line


VERDICT = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}


def analysis_summary(report: dict[str, Any], last: int = 5) -> str | None:
    """The analysis lines of ``rollout status``: the decision and the latest verdicts."""
    if not report.get("analysis"):
        return None
    decision = report.get("decision") or {}
    lines = [
        f"analysis: {cell(decision.get('action'))}"
        + (f" ({escape(decision['reason'])})" if decision.get("reason") else "")
    ]
    for run in (report.get("runs") or [])[:last]:
        colour = VERDICT.get(run.get("verdict"), "white")
        numbers = run.get("numbers") or {}
        where = f"step {run.get('step')} check {run.get('check')} ({cell(run.get('kind'))})"
        canary = f"{numbers.get('canaryErrors', 0)}/{numbers.get('canaryRequests', 0)}"
        stable = f"{numbers.get('stableErrors', 0)}/{numbers.get('stableRequests', 0)}"
        lines.append(
            f"  {where} interval {run.get('interval')}: [{colour}]{cell(run.get('verdict'))}[/] "
            f"canary {canary} errors, stable {stable}"
        )
    return "\n".join(lines)


def health(name: Name, env: Env, url: Url = None, as_json: AsJson = False) -> None:
    """Healthy, degraded or unhealthy: the stable and canary versions, as the prober last saw them."""
    with remote(url) as registry:
        report = registry.health(name, env)
    if as_json:
        print_json(report)
        return
    table = new_table(
        "track", "version", "state", "failures", "checked", "since", "reason", title=f"{name} in {env}"
    )
    for v in report.get("versions") or []:
        table.add_row(
            cell(v.get("track")),
            cell(v.get("version")),
            state_text(v.get("state")),
            cell(v.get("failures")),
            when(v.get("checkedAt")),
            when(v.get("changedAt")),
            cell(v.get("detail")),
        )
    out.print(table)
    if report.get("note"):
        out.print(f"[yellow]{escape(report['note'])}[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("health")(health)
