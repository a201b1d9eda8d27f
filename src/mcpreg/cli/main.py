"""The ``mcpreg`` command. Exit codes: 0 success, 1 refused or failed, 2 usage error.

Each module is imported only when one of its commands runs (see ``mcpreg.cli.lazy``):
add a new command's module and names to ``COMMANDS``.
"""

from __future__ import annotations

import sys

import typer

from mcpreg.cli.lazy import lazy_group

COMMANDS: dict[str, tuple[str, ...]] = {
    "mcpreg.cli.serve": ("serve",),
    "mcpreg.cli.importer": ("import",),
    "mcpreg.cli.exporter": ("export",),
    "mcpreg.cli.tokens": ("tokens",),
    "mcpreg.cli.secrets": ("secrets",),
    "mcpreg.cli.login": ("login", "logout", "whoami"),
    "mcpreg.cli.publish": ("validate", "publish"),
    "mcpreg.cli.drafts": ("draft",),
    "mcpreg.cli.releases": ("versions", "show", "diff", "deprecate", "delete", "restore", "duplicate"),
    "mcpreg.cli.channels": ("channel",),
    "mcpreg.cli.config": ("vars", "config"),
    "mcpreg.cli.environments": ("env",),
    "mcpreg.cli.ops": ("deploy", "promote", "approve", "rollback", "history", "where"),
    "mcpreg.cli.rollout": ("rollout",),
    "mcpreg.cli.upstream": ("upstream",),
    "mcpreg.cli.mirror": ("mirror",),
    "mcpreg.cli.curate": ("curate",),
    "mcpreg.cli.traffic": ("traffic",),
    "mcpreg.cli.limits": ("limits",),
    "mcpreg.cli.health": ("health",),
    "mcpreg.cli.gate": ("gate",),
    "mcpreg.cli.alert": ("alert",),
    "mcpreg.cli.testset": ("testset",),
    "mcpreg.cli.connect": ("connect",),
    "mcpreg.cli.doctor": ("migrate", "doctor"),
}

app = typer.Typer(
    name="mcpreg",
    help="mcpreg: an MCP server registry. Serve it, publish to it, deploy from it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=lazy_group(COMMANDS),
)


def show_version(value: bool) -> None:
    if value:
        from mcpreg import __version__

        typer.echo(f"mcpreg {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=show_version, help="Print mcpreg's version and exit."
    ),
) -> None:
    """mcpreg: an MCP server registry. Serve it, publish to it, deploy from it."""


def run() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
