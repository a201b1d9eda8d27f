"""``mcpreg env``: environments, their promotion order and their flags."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote, usage

app = typer.Typer(help="Environments and their promotion order.", no_args_is_help=True)

Position = Annotated[int | None, typer.Option("--position", help="Place in the promotion order (0 first).")]
Protected = Annotated[
    bool | None, typer.Option("--protected/--unprotected", help="Deploying needs a deploy token for it.")
]
Approval = Annotated[
    bool | None,
    typer.Option("--requires-approval/--no-approval", help="A second principal must approve deploys."),
]
Prereleases = Annotated[
    bool | None, typer.Option("--allow-prereleases/--no-prereleases", help="Accept pre-release versions.")
]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]
GatewayPublic = Annotated[
    bool | None,
    typer.Option("--gateway-public/--gateway-private", help="Its MCP gateway takes clients without a token."),
]


def _env_fields(
    position: int | None,
    protected: bool | None,
    approval: bool | None,
    prereleases: bool | None,
    description: str | None,
    gateway_public: bool | None = None,
) -> dict[str, Any]:
    fields = {
        "position": position,
        "protected": protected,
        "requiresApproval": approval,
        "allowPrereleases": prereleases,
        "description": description,
        "gatewayPublic": gateway_public,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _env_table(rows: list[dict[str, Any]]) -> Table:
    table = new_table("#", "environment", "protected", "approval", "pre-releases", "description")
    for row in rows:
        table.add_row(
            cell(row.get("position")),
            f"[bold]{cell(row.get('name'))}[/bold]",
            cell(row.get("protected")),
            cell(row.get("requiresApproval")),
            cell(row.get("allowPrereleases")),
            cell(row.get("description")),
        )
    return table


@app.command("list")
def env_list(url: Url = None, as_json: AsJson = False) -> None:
    """Every environment in promotion order."""
    with remote(url) as registry:
        rows = registry.environments()
    if as_json:
        print_json(rows)
    else:
        out.print(_env_table(rows))


@app.command("create")
def env_create(
    name: Annotated[str, typer.Argument(help="Lower-case name, e.g. qa.")],
    position: Position = None,
    protected: Protected = None,
    approval: Approval = None,
    prereleases: Prereleases = None,
    description: Description = None,
    gateway_public: GatewayPublic = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Create an environment (last in the promotion order unless --position)."""
    with remote(url) as registry:
        row = registry.create_environment(
            name, **_env_fields(position, protected, approval, prereleases, description, gateway_public)
        )
    if as_json:
        print_json(row)
    else:
        done(f"created environment {escape(name)} at position {row.get('position')}")


@app.command("update")
def env_update(
    name: Annotated[str, typer.Argument(help="The environment.")],
    position: Position = None,
    protected: Protected = None,
    approval: Approval = None,
    prereleases: Prereleases = None,
    description: Description = None,
    gateway_public: GatewayPublic = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Change an environment's flags or position (not its name)."""
    fields = _env_fields(position, protected, approval, prereleases, description, gateway_public)
    if not fields:
        usage("nothing to change: give at least one option")
    with remote(url) as registry:
        row = registry.update_environment(name, **fields)
    if as_json:
        print_json(row)
    else:
        done(f"updated environment {escape(name)}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="env")
