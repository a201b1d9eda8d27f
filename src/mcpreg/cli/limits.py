"""``mcpreg limits``: the gateway's rate limits of an environment and of its servers.

``show`` lists them (or one), ``set`` sets the environment's default or, with a server
name, that server's own, and ``rm`` removes one. A limit is a token bucket: ``--rate``
requests a second for the server in the environment (all its clients together) with room
for ``--burst`` at once, and ``--client-rate``/``--client-burst`` for each client.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote, usage

app = typer.Typer(
    help="The gateway's rate limits: per environment, and per server in it.", no_args_is_help=True
)

Server = Annotated[
    str | None,
    typer.Argument(help="Server name; leave out for the environment's default.", show_default=False),
]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]


def _table(rows: list[dict[str, Any]], title: str) -> Any:
    table = new_table(
        "server", "rate/s", "burst", "client rate/s", "client burst", "updated", "by", title=title
    )
    for row in rows:
        table.add_row(
            cell(row.get("server") or "(default)"),
            cell(row.get("rate")),
            cell(row.get("burst")),
            cell(row.get("clientRate")),
            cell(row.get("clientBurst")),
            cell(row.get("updatedAt")),
            cell(row.get("updatedBy")),
        )
    return table


@app.command("show")
def show(env: Env, server: Server = None, url: Url = None, as_json: AsJson = False) -> None:
    """The environment's limits (its default first), or one server's."""
    with remote(url) as registry:
        rows = [registry.rate_limit(env, server)] if server else registry.rate_limits(env)
    if as_json:
        print_json(rows[0] if server else rows)
    elif not rows:
        out.print(f"no rate limits in {escape(env)}: the gateway admits every request")
    else:
        out.print(_table(rows, f"rate limits in {env}"))


@app.command("set")
def set_limit(
    env: Env,
    server: Server = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Requests a second, all clients.")] = None,
    burst: Annotated[int | None, typer.Option("--burst", help="Requests at once, all clients.")] = None,
    client_rate: Annotated[
        float | None, typer.Option("--client-rate", help="Requests a second, each client.")
    ] = None,
    client_burst: Annotated[
        int | None, typer.Option("--client-burst", help="Requests at once, each client.")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Set the environment's default limit, or with SERVER that server's own."""
    if rate is None and burst is None and client_rate is None and client_burst is None:
        usage("give --rate and --burst, --client-rate and --client-burst, or both", "--rate")
    with remote(url) as registry:
        row = registry.set_rate_limit(
            env, server, rate=rate, burst=burst, clientRate=client_rate, clientBurst=client_burst
        )
    if as_json:
        print_json(row)
    else:
        done(f"rate limit of {escape(server or 'every server')} in {escape(env)} set")


@app.command("rm")
def remove(env: Env, server: Server = None, url: Url = None) -> None:
    """Remove the environment's default limit, or with SERVER that server's own."""
    with remote(url) as registry:
        registry.delete_rate_limit(env, server)
    done(f"rate limit of {escape(server or 'every server')} in {escape(env)} removed")
