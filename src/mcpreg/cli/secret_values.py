"""``mcpreg secrets set|list|rm``: write-only secrets, added to the ``secrets`` command group.

A secret's value is read from stdin when it is piped, else from a prompt that does not
echo; never from the command line, where it would land in shell history and in ``ps``.
Listing shows names, scopes, key ids, who set them and when: never values.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.markup import escape

from mcpreg.cli.config import Env, Name, Version, rows_table, scope_text
from mcpreg.cli.files import UnreadableFile, read_stdin
from mcpreg.cli.remote import AsJson, Url, done, fail, out, print_json, remote, usage
from mcpreg.cli.secrets import app as secrets_app


def read_secret(prompt: str) -> str:
    """The secret from piped stdin (one trailing newline dropped), else from a hidden prompt."""
    if sys.stdin.isatty():
        value = getpass.getpass(prompt)
    else:
        try:
            value = read_stdin()
        except UnreadableFile as exc:
            fail(f"{exc}; a secret is text")
        value = value.removesuffix("\n").removesuffix("\r")
    if not value:
        usage("no secret value given: pipe it on stdin or type it at the prompt")
    return value


def secrets_set(
    name: Name,
    secret: Annotated[str, typer.Argument(help="Secret name, e.g. WEATHER_API_KEY.")],
    version: Version = None,
    env: Env = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Set a secret; its value comes from stdin or a hidden prompt, never the command line."""
    value = read_secret(f"Value of {secret}: ")
    with remote(url) as registry:
        row = registry.set_secret(name, secret, value, version=version, environment=env)
    del value
    if as_json:
        print_json(row)
    else:
        done(
            f"secret {escape(secret)} set for {escape(name)}{escape(scope_text(version, env))} "
            f"(revision {row.get('revision')}, key {escape(str(row.get('keyId')))})"
        )


def secrets_list(
    name: Name, version: Version = None, env: Env = None, url: Url = None, as_json: AsJson = False
) -> None:
    """Secrets' names, scopes, key ids, who set them and when; never their values."""
    with remote(url) as registry:
        rows = registry.secrets(name, version=version, environment=env)
    if as_json:
        print_json(rows)
    else:
        out.print(rows_table(rows, f"secrets of {name}", with_value=False))


def secrets_rm(
    name: Name,
    secret: Annotated[str, typer.Argument(help="Secret name.")],
    version: Version = None,
    env: Env = None,
    url: Url = None,
) -> None:
    """Delete a secret at one scope."""
    with remote(url) as registry:
        registry.delete_secret(name, secret, version=version, environment=env)
    done(f"removed secret {escape(secret)} of {escape(name)}{escape(scope_text(version, env))}")


def register(_root: typer.Typer) -> None:
    """Add set, list and rm to the ``secrets`` group of :mod:`mcpreg.cli.secrets`."""
    secrets_app.command("set")(secrets_set)
    secrets_app.command("list")(secrets_list)
    secrets_app.command("rm")(secrets_rm)
