"""Ops commands: deploy, promote, approve, rollback, history, where (environments: ``mcpreg env``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.health import state_text
from mcpreg.cli.remote import (
    AsJson,
    Url,
    cell,
    done,
    new_table,
    out,
    print_json,
    remote,
    split_ref,
    usage,
    when,
)
from mcpreg.client import NoDeployment, NotFound, PermissionDenied, Registry
from mcpreg.domain.timestamps import read_rfc3339, rfc3339

Name = Annotated[str, typer.Argument(help="Server name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]
Notes = Annotated[str | None, typer.Option("--notes", help="Why; recorded in the history.")]
Canary = Annotated[
    float | None,
    typer.Option("--canary", help="Send this percent of clients to the new version, hold until promoted."),
]
Steps = Annotated[
    str | None,
    typer.Option("--steps", help="Staged rollout: weight:pause,... e.g. 5:10m,25:manual,100."),
]


def strategy_of(canary: float | None, steps: str | None) -> dict[str, Any]:
    """The strategy fields for ``--canary`` / ``--steps``, checked locally (usage errors exit 2)."""
    from mcpreg.domain.rollout import canary_plan, parse_steps
    from mcpreg.errors import ValidationFailed

    if canary is not None and steps is not None:
        usage("give --canary or --steps, not both", "--canary/--steps")
    try:
        if canary is not None:
            canary_plan(canary)
            return {"strategy": "canary", "weight": canary}
        if steps is not None:
            return {"strategy": "staged", "steps": [step.to_dict() for step in parse_steps(steps)]}
    except ValidationFailed as exc:
        usage(f"{exc.detail} ({exc.field})", "--steps" if steps is not None else "--canary")
    return {"strategy": "immediate"}


def _json_file(path: Path, option: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        usage(f"{option} {path}: not a readable JSON file ({exc})", option)


def analysis_file(path: Path | None) -> dict[str, Any] | None:
    """``--analysis FILE``: a JSON object; the registry checks its rules."""
    if path is None:
        return None
    value = _json_file(path, "--analysis")
    if not isinstance(value, dict):
        usage(f"--analysis {path}: the file holds a JSON object with checks", "--analysis")
    return value


def gates_file(path: Path | None) -> list[dict[str, Any]] | None:
    """``--gates FILE``: a JSON list of gate objects; the registry checks each one."""
    if path is None:
        return None
    value = _json_file(path, "--gates")
    if not isinstance(value, list):
        usage(f"--gates {path}: the file holds a JSON list of gates", "--gates")
    return value


def scheduled_time(text: str | None) -> str | None:
    """``--at``: an RFC 3339 time (local time when it has no zone) or ``+DURATION`` from now."""
    from mcpreg.domain.deploy_requests import CLOCK_SKEW
    from mcpreg.domain.rollout import parse_duration
    from mcpreg.errors import ValidationFailed

    if not text:
        return None
    hint = "give a time like 2030-01-31T18:00:00Z, 2030-01-31 18:00 (local) or +30m"
    try:
        if text.startswith("+"):
            moment = datetime.now(UTC) + timedelta(seconds=parse_duration(text[1:]))
        else:
            moment = read_rfc3339(text) or usage(hint, "--at")
            if moment.tzinfo is None:
                moment = moment.astimezone()
    except (ValueError, ValidationFailed):
        usage(hint, "--at")
    if moment < datetime.now(UTC) - CLOCK_SKEW:
        usage(f"{text} is in the past; give a future time, or leave --at out to deploy now", "--at")
    return rfc3339(moment.astimezone(UTC))


def deployment_line(answer: dict[str, Any]) -> str:
    """One line for a deploy, promote or approve answer (``{"deployment", "current"}``)."""
    d = answer.get("deployment") or answer
    kind = "promotion" if d.get("kind") == "promotion" else "deployment"
    server, version, env = (escape(str(d.get(key))) for key in ("server", "version", "environment"))
    what = f"{kind} #{d.get('id')}: {server} {version} → {env}"
    state = d.get("state")
    if state == "pending_approval":
        return (
            f"{what} [yellow]waits for approval[/yellow] (by another principal: mcpreg approve {d.get('id')})"
        )
    if state == "scheduled":
        return f"{what} [cyan]scheduled[/cyan] for {when(d.get('scheduledAt'))}"
    if state == "held":
        return f"{what} [yellow]held by its deploy gates[/yellow] (mcpreg gate runs {env} {server})"
    return f"{what} [green]{escape(str(state))}[/green] ({escape(str(d.get('strategy')))})"


# -- deploy, promote, approve -----------------------------------------------------------------------


def deploy(
    ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
    env: Env,
    canary: Canary = None,
    steps: Steps = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When: 2030-01-31T18:00:00Z, local time, or +30m.")
    ] = None,
    notes: Notes = None,
    analysis: Annotated[
        Path | None,
        typer.Option(
            "--analysis",
            help="A JSON file of the rollout's canary analysis ({checks: [...]}).",
            show_default=False,
        ),
    ] = None,
    gates: Annotated[
        Path | None,
        typer.Option(
            "--gates",
            help="A JSON file of this deployment's own promotion gates ([{name, kind, ...}]).",
            show_default=False,
        ),
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Deploy a release to an environment: at once, as a canary, or in steps."""
    name, version = split_ref(ref, version_required=True)
    assert version is not None
    strategy = strategy_of(canary, steps)
    scheduled = scheduled_time(at)
    checks, own_gates = analysis_file(analysis), gates_file(gates)
    with remote(url) as registry:
        result = registry.deploy(
            name,
            version,
            env,
            scheduled_at=scheduled,
            notes=notes,
            analysis=checks,
            gates=own_gates,
            **strategy,
        )
    if as_json:
        print_json(result)
    else:
        out.print(deployment_line(result))


def promote(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]", help="Default: what runs in --from.")],
    source: Annotated[str, typer.Option("--from", help="The environment to promote from.")],
    target: Annotated[str | None, typer.Option("--to", help="Default: the next environment.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow skipping environments (recorded).")] = False,
    canary: Canary = None,
    steps: Steps = None,
    notes: Notes = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Deploy to the next environment what runs in --from."""
    name, version = split_ref(ref)
    strategy = strategy_of(canary, steps)
    with remote(url) as registry:
        if version is None:
            version = stable_in(registry, name, source)
        result = registry.promote(name, version, source, target, force=force, notes=notes, **strategy)
    if as_json:
        print_json(result)
    else:
        out.print(deployment_line(result))


def stable_in(registry: Registry, name: str, environment: str) -> str:
    state = registry.rollout(name, environment)
    stable = state.get("stable")
    if not stable:
        raise NoDeployment(
            f"nothing of {name} is deployed in {environment}", code="no_deployment", field="from"
        )
    return str(stable)


def approve(
    deployment_id: Annotated[int, typer.Argument(metavar="ID", help="The deployment waiting for approval.")],
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="Its environment (found when omitted).")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Approve a deployment requested by someone else; it applies at once (or when scheduled)."""
    with remote(url) as registry:
        environment = env or find_environment_of(registry, deployment_id)
        result = registry.approve(environment, deployment_id)
    if as_json:
        print_json(result)
    else:
        out.print(deployment_line(result))


def find_environment_of(registry: Registry, deployment_id: int) -> str:
    """The environment holding a pending deployment, searched among those requiring approval."""
    for environment in registry.environments():
        if not environment.get("requiresApproval"):
            continue
        for deployment in registry.deployments(str(environment["name"]), state="pending_approval"):
            if deployment.get("id") == deployment_id:
                return str(environment["name"])
    raise NotFound(
        f"no deployment {deployment_id} waits for approval (give --env to look elsewhere)",
        code="deployment_not_found",
        field="id",
    )


# -- rollback, history, where -------------------------------------------------------------------------


def rollback(
    name: Name,
    env: Env,
    to: Annotated[str | None, typer.Option("--to", help="Default: the last known good version.")] = None,
    notes: Notes = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Serve the last known good version (or --to) at once, cancelling any rollout."""
    with remote(url) as registry:
        state = registry.rollback(name, env, version=to, notes=notes)
    if as_json:
        print_json(state)
    else:
        done(f"{escape(name)} in {escape(env)} rolled back: stable is {escape(str(state.get('stable')))}")


def history(
    name: Name,
    env: Env,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Every deployment, promotion, step, approval, abort and rollback, newest first."""
    with remote(url) as registry:
        page = registry.history(name, env)
    events = page.get("events") or []
    if as_json:
        print_json(page)
        return
    table = new_table(
        "at", "action", "version", "replaced", "strategy", "weight", "by", "notes", title=f"{name} in {env}"
    )
    for e in events:
        table.add_row(
            when(e.get("at")),
            cell(e.get("action")),
            cell(e.get("version")),
            cell(e.get("replaced")),
            cell(e.get("strategy")),
            cell(e.get("weight")) if e.get("canary") else "",
            cell(e.get("actor")),
            cell(e.get("notes")),
        )
    out.print(table)


def _health(registry: Registry, name: str, environment: str) -> dict[str, Any] | None:
    """The prober's report, or None where this token may not read it."""
    try:
        return registry.health(name, environment)
    except (PermissionDenied, NotFound):
        return None


def where(name: Name, url: Url = None, as_json: AsJson = False) -> None:
    """Which version runs in each environment, with its canary."""
    with remote(url) as registry:
        result = registry.where(name)
        rows = result.get("environments") or result.get("deployments") or []
        checked = {
            row["environment"]: report
            for row in rows
            if row.get("stable") and (report := _health(registry, name, row["environment"])) is not None
        }
    if as_json:
        print_json({**result, "health": checked})
        return
    table = new_table(
        "environment", "stable", "canary", "weight", "status", "health", "deployed", "by", title=name
    )
    for row in rows:
        states = {
            v["track"]: v.get("state") for v in checked.get(row.get("environment"), {}).get("versions", [])
        }
        table.add_row(
            f"[bold]{cell(row.get('environment'))}[/bold]",
            cell(row.get("stable")),
            cell(row.get("canary")),
            f"{row.get('weight')}%" if row.get("canary") else "",
            cell(row.get("status")),
            " / ".join(state_text(states.get(track)) for track in ("stable", "canary") if track in states),
            when(row.get("deployedAt")),
            cell(row.get("deployedBy")),
        )
    out.print(table)
    source = result.get("source")
    if source:  # a mirrored server: which upstream brought its releases
        out.print(
            f"mirrored from {cell(source['upstream'])} ({cell(source['url'])}): "
            f"{source['releases']} releases, last synced {when(source['syncedAt'])}"
        )


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("promote")(promote)
    app.command("approve")(approve)
    app.command("rollback")(rollback)
    app.command("history")(history)
    app.command("where")(where)
