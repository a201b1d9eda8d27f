"""``mcpreg traffic``: what the gateway proxied of one server in one environment, per version."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from mcpreg.cli.remote import AsJson, Url, cell, new_table, out, print_json, remote, usage, when
from mcpreg.domain.traffic import WINDOW_RULE, parse_window

Name = Annotated[str, typer.Argument(help="Server name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]


def _ms(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return ""
    return f"{seconds * 1000:.1f} ms"


def _share(rate: Any) -> str:
    return f"{rate * 100:.1f}%" if isinstance(rate, int | float) else ""


def _outcomes(outcomes: Any) -> str:
    if not isinstance(outcomes, dict):
        return ""
    return escape(", ".join(f"{name} {count}" for name, count in outcomes.items()))


def render(report: dict[str, Any]) -> RenderableType:
    """The per-version table of one traffic report."""
    title = (
        f"{report.get('server')} in {report.get('environment')}, last {report.get('window')} "
        f"({report.get('replicas', 0)} replicas reporting)"
    )
    table = new_table(
        "version", "track", "req/s", "requests", "errors", "p50", "p95", "p99", "outcomes", title=title
    )
    for v in report.get("versions") or []:
        latency = v.get("latencySeconds") or {}
        table.add_row(
            cell(v.get("version")),
            cell(v.get("track")),
            f"{float(v.get('requestRate') or 0):.2f}",
            cell(v.get("requests")),
            _share(v.get("errorRate")),
            _ms(latency.get("p50")),
            _ms(latency.get("p95")),
            _ms(latency.get("p99")),
            _outcomes(v.get("outcomes")),
        )
    if not report.get("versions"):
        return Group(table, Text("no gateway traffic in this window", style="dim"))
    return Group(table, Text(f"until {when(report.get('until'))}", style="dim"))


def traffic(
    name: Name,
    env: Env,
    window: Annotated[
        str, typer.Option("--window", help="How far back to count: 30s, 5m, 1h... (at most 24h).")
    ] = "5m",
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Read again every --interval s.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between reads.")] = 2.0,
    count: Annotated[
        int,
        typer.Option("--count", min=0, help="With --watch: stop after N reads (0: never)."),
    ] = 0,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Requests, error rate and p50/p95/p99 latency per version, over every replica.

    With --watch the table redraws (--json: one JSON report per read) until Ctrl-C or --count.
    """
    if parse_window(window) is None:
        usage(f"--window must be {WINDOW_RULE}", "--window")
    with remote(url) as registry:

        def read() -> dict[str, Any]:
            return registry.traffic(name, env, window)

        report = read()
        if not watch:
            if as_json:
                print_json(report)
            else:
                out.print(render(report))
            return
        reads = 1
        if as_json:
            print_json(report)
            while count == 0 or reads < count:
                time.sleep(interval)
                print_json(read())
                reads += 1
            return
        with Live(render(report), console=out, refresh_per_second=4) as live:
            while count == 0 or reads < count:
                time.sleep(interval)
                live.update(render(read()))
                reads += 1


def register(app: typer.Typer) -> None:
    app.command("traffic")(traffic)
