"""``mcpreg gate``: the promotion gates of an environment, and a server's gate runs.

``add`` declares or replaces a gate: ``--webhook URL`` (signed with a secret read from
``--secret-env VAR`` or ``--secret-file F``, never from the command line; a replace may leave
it out and keeps the old one) or ``--testset SET``; ``--points`` says where it applies
(``deploy``, ``step``, ``promote``; default all three). ``list`` shows an environment's gates,
``remove`` removes one, ``runs`` shows a server's gate runs and what its rollout waits on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.files import secret_from
from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote, usage, when

app = typer.Typer(
    help="Promotion gates: webhooks and test sets a deployment, step or promotion waits for.",
    no_args_is_help=True,
)

Env = Annotated[str, typer.Argument(help="The environment.", show_default=False)]
Name = Annotated[str, typer.Argument(help="The gate's name.", show_default=False)]


@app.command("add")
def add(
    env: Env,
    name: Name,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST the rollout's state here.")] = None,
    testset: Annotated[str | None, typer.Option("--testset", help="Run this test set of the server.")] = None,
    secret_env: Annotated[
        str | None, typer.Option("--secret-env", help="Read the webhook's signing secret from this variable.")
    ] = None,
    secret_file: Annotated[
        Path | None, typer.Option("--secret-file", help="Read the webhook's signing secret from this file.")
    ] = None,
    points: Annotated[
        str | None, typer.Option("--points", help="Where it applies: deploy,step,promote (default: all).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds the webhook may take (default 10).")
    ] = None,
    retry_initial: Annotated[
        float | None, typer.Option("--retry-initial", help="Seconds before the first retry (default 1).")
    ] = None,
    retry_max: Annotated[
        float | None, typer.Option("--retry-max", help="The longest wait between retries (default 60).")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Declare or replace the gate NAME of ENV: a webhook or a test set."""
    if (webhook is None) == (testset is None):
        usage("give --webhook URL or --testset SET", "--webhook")
    secret = secret_from(secret_env, secret_file)
    if testset is not None and (secret is not None or timeout is not None):
        usage("--secret-env, --secret-file and --timeout are for a webhook gate", "--testset")
    gate: dict[str, Any] = (
        {"kind": "webhook", "url": webhook} if webhook else {"kind": "testset", "testset": testset}
    )
    if points is not None:
        gate["points"] = [p.strip() for p in points.split(",") if p.strip()]
    retry = {"initialSeconds": retry_initial, "maxSeconds": retry_max}
    if any(v is not None for v in retry.values()):
        gate["retry"] = {k: v for k, v in retry.items() if v is not None}
    given = {"secret": secret, "timeoutSeconds": timeout}
    gate.update({key: value for key, value in given.items() if value is not None})
    with remote(url) as registry:
        row = registry.set_gate(env, name, gate)
    if as_json:
        print_json(row)
    else:
        done(f"gate {escape(name)} ({row['kind']}, at {', '.join(row['points'])}) set in {escape(env)}")


def _what(row: dict[str, Any]) -> str:
    if row["kind"] == "webhook":
        return f"{row['url']} ({row['timeoutSeconds']:g} s)"
    return f"test set {row['testset']}"


@app.command("list")
def list_gates(env: Env, url: Url = None, as_json: AsJson = False) -> None:
    """The promotion gates of ENV."""
    with remote(url) as registry:
        rows = registry.gates(env)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"no gates in {escape(env)}: deployments and steps wait for nothing but their plan")
        return
    table = new_table("name", "kind", "points", "checks", "retry", title=f"gates in {env}")
    for row in rows:
        retry = row["retry"]
        table.add_row(
            cell(row["name"]),
            cell(row["kind"]),
            cell(", ".join(row["points"])),
            cell(_what(row)),
            cell(f"{retry['initialSeconds']:g} s doubling to {retry['maxSeconds']:g} s"),
        )
    out.print(table)


@app.command("remove")
def remove(env: Env, name: Name, url: Url = None) -> None:
    """Remove the gate NAME of ENV."""
    with remote(url) as registry:
        registry.delete_gate(env, name)
    done(f"gate {escape(name)} removed from {escape(env)}")


def waiting_lines(report: dict[str, Any]) -> list[str]:
    """What a target waits on, one line a gate (for ``gate runs`` and ``rollout status``)."""
    lines = []
    for wait in report.get("waitingOn") or []:
        where = {
            "deploy": "the deployment",
            "step": f"step {wait['step']}",
            "promote": f"the promotion to 100% (step {wait['step']})",
        }.get(wait["point"], wait["point"])
        if wait["result"] is None:
            how = "not tried yet"
        elif wait["result"] == "running":
            how = f"attempt {wait['attempt']} running"
        else:
            how = f"attempt {wait['attempt']} {wait['result']}: {wait.get('failure') or '?'}"
            if wait.get("retryAt"):
                how += f"; retry at {wait['retryAt']}"
        lines.append(f"waiting on gate {wait['gate']} ({wait['kind']}) before {where}: {how}")
    return lines


@app.command("runs")
def runs(
    env: Env,
    server: Annotated[str, typer.Argument(help="The server.", show_default=False)],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """The gate runs of SERVER in ENV, newest first, and what its rollout waits on."""
    with remote(url) as registry:
        report = registry.gate_runs(server, env)
    if as_json:
        print_json(report)
        return
    for line in waiting_lines(report):
        out.print(escape(line))
    if not report["runs"]:
        out.print(f"no gate runs of {escape(server)} in {escape(env)}")
        return
    table = new_table("when", "gate", "point", "step", "attempt", "result", "status", "ms", "failure")
    for run in report["runs"]:
        failure = run.get("failure") or ""
        if run.get("failing"):
            failure = f"{failure} [{', '.join(run['failing'])}]".strip()
        table.add_row(
            when(run["startedAt"]),
            cell(run["gate"]),
            cell(run["point"]),
            cell(run["step"]),
            cell(run["attempt"]),
            cell(run["result"]),
            cell(run.get("httpStatus")),
            cell(run.get("elapsedMs")),
            cell(failure),
        )
    out.print(table)
