"""``mcpreg rollout``: watch and steer the canary of one server in one environment."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table

from mcpreg.cli.gate import waiting_lines
from mcpreg.cli.health import analysis_summary, summary
from mcpreg.cli.remote import AsJson, Url, cell, err, out, print_json, remote
from mcpreg.domain.timestamps import read_rfc3339

app = typer.Typer(help="Watch and steer a canary or staged rollout.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="Server name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]
FINISHED_OK = ("completed", "stable")


def _seconds_until(value: Any, now: datetime) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    moment = read_rfc3339(value)
    if moment is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def _duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _plan(steps: list[dict[str, Any]], current: int | None) -> str:
    parts = []
    for i, step in enumerate(steps):
        text = f"{step.get('weight')}%" + (f" {step['pause']}" if step.get("pause") else "")
        parts.append(f"[bold reverse] {escape(text)} [/bold reverse]" if i == current else escape(text))
    return " → ".join(parts)


def render(state: dict[str, Any], now: datetime | None = None) -> RenderableType:
    """The status view: versions, weight bar, step, countdown."""
    now = now or datetime.now(UTC)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("server", f"{escape(str(state.get('server')))} in {escape(str(state.get('environment')))}")
    grid.add_row("stable", cell(state.get("stable")) or "[dim]nothing deployed[/dim]")
    status = str(state.get("status") or "")
    weight = float(state.get("weight") or 0)
    if state.get("canary"):
        grid.add_row("canary", f"{cell(state.get('canary'))} ({cell(state.get('strategy'))})")
        bar = ProgressBar(total=100, completed=weight, width=30)
        weights = Table.grid(padding=(0, 1))
        weights.add_row(bar, f"canary {weight:g}% / stable {100 - weight:g}%")
        grid.add_row("weights", weights)
    grid.add_row("status", escape(status))
    steps = state.get("steps") or []
    if steps:
        step = state.get("step")
        grid.add_row("step", f"{(step or 0) + 1} of {len(steps)}: {_plan(steps, step)}")
    remaining = _seconds_until(state.get("nextStepAt"), now)
    if remaining is not None and status == "progressing":
        grid.add_row("next step", f"in {_duration(remaining)}")
    elif status == "paused_manual":
        grid.add_row("next step", "waits for `mcpreg rollout promote`")
    elif status == "paused" and state.get("pausedRemainingSeconds") is not None:
        grid.add_row(
            "next step", f"paused, {_duration(float(state['pausedRemainingSeconds']))} left on resume"
        )
    return Group(grid)


@app.command("status")
def status(
    name: Name,
    env: Env,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Follow the rollout live until it ends.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Stop watching after this many seconds.")
    ] = 600,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between polls.")] = 1.0,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Stable and canary versions, weights, current step and time to the next one.

    With --watch: exits 0 when the rollout completes, 1 if it is aborted or --timeout passes.
    """
    with remote(url) as registry:
        state = registry.rollout(name, env)
        if watch:
            state = _watch(lambda: registry.rollout(name, env), state, timeout, interval, quiet=as_json)
        checked = registry.health(name, env)
        analysed = registry.analysis(name, env)
        gated = registry.gate_runs(name, env)
    if as_json:
        print_json({**state, "health": checked, "analysis": analysed, "gates": gated})
    elif not watch:
        out.print(render(state))
        out.print(summary(checked))
        lines = analysis_summary(analysed)
        if lines:
            out.print(lines)
        for line in waiting_lines(gated):
            out.print(escape(line))
    if watch:
        _verdict(state)


def _watch(
    read: Any, state: dict[str, Any], timeout: float, interval: float, *, quiet: bool
) -> dict[str, Any]:
    """Poll until the rollout ends or ``timeout`` passes; live view unless ``quiet`` (--json)."""
    deadline = time.monotonic() + timeout
    if quiet:
        while state.get("rollingOut") and time.monotonic() < deadline:
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            state = read()
        return state
    with Live(render(state), console=out, refresh_per_second=4) as live:
        while state.get("rollingOut") and time.monotonic() < deadline:
            poll_at = min(deadline, time.monotonic() + interval)
            while time.monotonic() < poll_at:  # redraw the countdown between polls
                time.sleep(min(0.25, max(0.0, poll_at - time.monotonic())))
                live.update(render(state))
            state = read()
            live.update(render(state))
    return state


def _verdict(state: dict[str, Any]) -> None:
    current = str(state.get("status"))
    if not state.get("stable") and not state.get("canary"):
        server, environment = escape(str(state.get("server"))), escape(str(state.get("environment")))
        err.print(f"nothing of {server} is deployed in {environment}")
        raise typer.Exit(1)
    if state.get("rollingOut"):
        err.print(f"[yellow]timed out[/yellow]: the rollout is still {escape(current)}")
        raise typer.Exit(1)
    if current not in FINISHED_OK:
        err.print(f"[red]rollout {escape(current)}[/red]: stable is {escape(str(state.get('stable')))}")
        raise typer.Exit(1)


def _steer(action: str, help_text: str) -> Any:
    def command(name: Name, env: Env, url: Url = None, as_json: AsJson = False) -> None:
        with remote(url) as registry:
            state = {
                "pause": registry.rollout_pause,
                "resume": registry.rollout_resume,
                "abort": registry.rollout_abort,
            }[action](name, env)
        if as_json:
            print_json(state)
        else:
            out.print(render(state))

    command.__doc__ = help_text
    return command


@app.command("promote")
def promote(
    name: Name,
    env: Env,
    full: Annotated[
        bool, typer.Option("--full", help="Go straight to 100% (the canary becomes stable).")
    ] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Advance the rollout one step (or all the way with --full)."""
    with remote(url) as registry:
        state = registry.rollout_promote(name, env, full=full)
    if as_json:
        print_json(state)
    else:
        out.print(render(state))


app.command("pause")(_steer("pause", "Stop the countdown of a timed step."))
app.command("resume")(_steer("resume", "Restart a paused countdown."))
app.command("abort")(_steer("abort", "Send the canary's weight to 0; the stable version keeps serving."))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rollout")
