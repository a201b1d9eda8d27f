"""The ``mcpreg`` command. Exit codes: 0 success, 1 refused or failed, 2 usage error."""

from __future__ import annotations

import sys

import typer

from mcpreg.cli import importer, serve, tokens

app = typer.Typer(
    name="mcpreg",
    help="mcpreg: an MCP server registry. Serve it, publish to it, deploy from it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
serve.register(app)
importer.register(app)
app.add_typer(tokens.app, name="tokens")


def run() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
