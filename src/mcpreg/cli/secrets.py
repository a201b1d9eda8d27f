"""``mcpreg secrets``: set, list and remove secret values; the key commands come from ``cli.keys``.

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

from mcpreg.cli import keys
from mcpreg.cli.config import Env, Name, Version, rows_table, scope_text
from mcpreg.cli.files import UnreadableFile, read_stdin
from mcpreg.cli.remote import AsJson, Url, done, fail, out, print_json, remote, usage


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


app = typer.Typer(
    help="Secrets: set, list and remove values; generate key-ring entries; rotate stored secrets.",
    no_args_is_help=True,
)
app.command("generate-key")(keys.generate_key)
app.command("rotate")(keys.rotate_command)
app.command("set")(secrets_set)
app.command("list")(secrets_list)
app.command("rm")(secrets_rm)
