"""``mcpreg vars`` and ``mcpreg config``: plain variables and the effective configuration.

Scoping: no option means the server level (shared by every release), ``--version`` a
release, ``--env`` an environment override. Secrets are set with ``mcpreg secrets``
(:mod:`mcpreg.cli.secrets`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mcpreg.cli.remote import AsJson, Url, cell, done, fail, new_table, out, print_json, remote, usage, when
from mcpreg.client import NoDeployment, ValidationFailed

vars_app = typer.Typer(
    help="Plain configuration variables, per server, release or environment.", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="Server name.")]
Version = Annotated[str | None, typer.Option("--version", help="Scope to one release.")]
Env = Annotated[str | None, typer.Option("--env", help="Scope to one environment (an override).")]


def scope_text(version: str | None, env: str | None) -> str:
    if version:
        return f" (release {version})"
    if env:
        return f" (environment {env})"
    return ""


def _scope_of(row: dict[str, Any]) -> str:
    if row.get("environment"):
        return f"env {row['environment']}"
    if row.get("version"):
        return f"release {row['version']}"
    return str(row.get("scope") or "server")


def rows_table(rows: list[dict[str, Any]], title: str, *, with_value: bool) -> Table:
    table = new_table(
        "name",
        "scope",
        "value" if with_value else "key id",
        "rev",
        "updated",
        "by",
        title=title,
        wrap=("value",),
    )
    for row in rows:
        table.add_row(
            cell(row.get("name")),
            cell(_scope_of(row)),
            cell(row.get("value") if with_value else row.get("keyId")),
            cell(row.get("revision")),
            when(row.get("updatedAt")),
            cell(row.get("updatedBy")),
        )
    return table


# -- variables ---------------------------------------------------------------------------------------


@vars_app.command("set")
def vars_set(
    name: Name,
    variable: Annotated[str, typer.Argument(help="Variable name, e.g. LOG_LEVEL.")],
    value: Annotated[str, typer.Argument(help="Its value (use `mcpreg secrets set` for anything secret).")],
    version: Version = None,
    env: Env = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Set a variable."""
    with remote(url) as registry:
        row = registry.set_variable(name, variable, value, version=version, environment=env)
    if as_json:
        print_json(row)
    else:
        done(f"{escape(variable)} set for {escape(name)}{escape(scope_text(version, env))}")


@vars_app.command("list")
def vars_list(
    name: Name, version: Version = None, env: Env = None, url: Url = None, as_json: AsJson = False
) -> None:
    """Variables of every scope, or of one release or environment."""
    with remote(url) as registry:
        rows = registry.variables(name, version=version, environment=env)
    if as_json:
        print_json(rows)
    else:
        out.print(rows_table(rows, f"variables of {name}", with_value=True))


@vars_app.command("rm")
def vars_rm(
    name: Name,
    variable: Annotated[str, typer.Argument(help="Variable name.")],
    version: Version = None,
    env: Env = None,
    url: Url = None,
) -> None:
    """Delete a variable at one scope."""
    with remote(url) as registry:
        registry.delete_variable(name, variable, version=version, environment=env)
    done(f"removed {escape(variable)} of {escape(name)}{escape(scope_text(version, env))}")


# -- effective configuration -------------------------------------------------------------------------


def config_command(
    name: Name,
    env: Annotated[str, typer.Option("--env", help="The environment whose configuration to show.")],
    version: Annotated[
        str | None, typer.Option("--version", help="The release (default: what is deployed there).")
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show secret values (needs secrets:read).")
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why you reveal; journaled.")] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """The effective configuration of NAME in an environment: variables, secrets, what is missing."""
    if reveal and not reason:
        usage("say why with --reason: every reveal is recorded in the change journal", "--reason")
    with remote(url) as registry:
        if reveal:
            may_reveal(registry.whoami())
        try:
            result = registry.config(name, env, version=version, reveal=reveal, reason=reason)
        except ValidationFailed as exc:
            if version or exc.code != "version_required":
                raise
            # A registry that does not default to the deployed release: name the stable one.
            stable = registry.rollout(name, env).get("stable")
            if not stable:
                raise NoDeployment(f"nothing of {name} is deployed in {env}", code="no_deployment") from None
            result = registry.config(name, env, version=str(stable), reveal=reveal, reason=reason)
    if as_json:
        print_json(result)
        return
    table = new_table("name", "value", "kind", "source", title=f"{name} {result.get('version')} in {env}")
    for key, item in (result.get("variables") or {}).items():
        table.add_row(escape(key), cell(item.get("value")), "variable", cell(item.get("source")))
    for key, item in (result.get("secrets") or {}).items():
        table.add_row(
            escape(key), cell(item.get("value")), "[yellow]secret[/yellow]", cell(item.get("source"))
        )
    out.print(table)
    missing = result.get("missing") or []
    if missing:
        out.print(f"[red]missing required:[/red] {cell(missing)}")


def may_reveal(principal: dict[str, Any]) -> None:
    """Exit 1 before asking when the token lacks the ``secrets:read`` scope ``--reveal`` needs."""
    scopes = [str(s) for s in principal.get("scopes") or []]
    if "secrets:read" in scopes or "admin" in scopes:
        return
    fail(
        f"--reveal needs a token with the secrets:read scope; token {principal.get('name')!r} "
        f"has {', '.join(scopes) or 'no scopes'} (mcpreg tokens create --scope secrets:read ...)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(vars_app, name="vars")
    app.command("config")(config_command)
