"""What every command that talks to a registry shares: connecting, printing, refusing.

* The registry is ``--url``, else ``MCPREG_URL``, else the default saved by
  ``mcpreg login``, else http://127.0.0.1:8080. The token is ``MCPREG_TOKEN``, else
  the one ``mcpreg login`` saved for that URL.
* Answers print as Rich tables for people, or as JSON with ``--json`` for scripts.
* A refused or failed request prints the registry's code, detail and field on stderr
  and exits 1; a usage error exits 2; no traceback ever reaches the terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from mcpreg.cli.credentials import Credentials
from mcpreg.cli.tables import cell, new_table, when
from mcpreg.cli.words import cli_detail, cli_word, where_label
from mcpreg.client import Registry, RegistryClientError
from mcpreg.client.base import DEFAULT_URL
from mcpreg.client.errors import InvalidServerName

__all__ = ["cell", "new_table", "when"]  # re-exported: every command module imports them from here

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="MCPREG_URL",
        show_default=False,
        help="Registry URL [default: the one `mcpreg login` saved, else http://127.0.0.1:8080].",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def registry_url(url: str | None) -> str:
    chosen = (url or Credentials.load().default_url or DEFAULT_URL).rstrip("/")
    scheme, _, rest = chosen.partition("://")
    if scheme not in ("http", "https") or not rest:
        usage(f"the registry URL must look like http://host:port, not {chosen!r}", "--url")
    try:
        httpx.URL(chosen)
    except httpx.InvalidURL as exc:
        usage(f"the registry URL {chosen!r} is not a valid URL: {exc}", "--url")
    return chosen


def connect(url: str | None, *, timeout: float = 30.0) -> Registry:
    """A client for the chosen registry, reading every answer fresh (TTL 0: revalidate)."""
    base = registry_url(url)
    token = os.environ.get("MCPREG_TOKEN") or Credentials.load().token_for(base)
    if token and not token.isascii():
        fail("the token (MCPREG_TOKEN, or the one `mcpreg login` saved) is not ASCII text: mcpreg tokens are")
    return Registry(base, token=token, cache_ttl=0, timeout=timeout)


@contextmanager
def remote(url: str | None, *, timeout: float = 30.0) -> Iterator[Registry]:
    """``with remote(url) as registry:``; refusals print and exit 1, a bad server name exits 2.

    ``timeout``: seconds each request may take (longer for a command that waits on work)."""
    registry = connect(url, timeout=timeout)
    try:
        with registry:
            yield registry
    except RegistryClientError as exc:
        refuse(exc)
    except InvalidServerName as exc:
        usage(str(exc), "NAME")


def command_name() -> str:
    """The running command without the program name (``vars set``), or "" outside a command."""
    # Typer (>= 0.29, as pyproject requires) runs commands on its own copy of Click, so the
    # current context lives there, not in the `click` package.
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    return " ".join(ctx.command_path.split()[1:]) if ctx is not None else ""


def refuse(exc: RegistryClientError) -> NoReturn:
    """Print a refusal the one way every command does, in the command's words, then exit 1.

    The registry's ``field`` becomes the option or argument the user typed (see
    :mod:`mcpreg.cli.words`); a field the command has no word for is printed as it is.
    """
    command = command_name()
    status = f" (HTTP {exc.status})" if exc.status else ""
    detail = cli_detail(exc.code, exc.detail)
    err.print(f"[red]error[/red] {escape(exc.code)}{status}: {escape(detail)}")
    word = cli_word(command, exc.field)
    if word:
        err.print(f"  {where_label(word)}: {escape(word)}")
    elif exc.field:
        err.print(f"  field: {escape(exc.field)}")
    for item in exc.errors:
        err.print(f"  {escape(str(item.get('field', '')))}: {escape(str(item.get('message', '')))}")
    raise typer.Exit(1)


def fail(message: str) -> NoReturn:
    """A local failure that is not a usage error (bad file content, nothing to do): exit 1."""
    err.print(f"[red]error[/red] {escape(message)}")
    raise typer.Exit(1)


def usage(message: str, param: str | None = None) -> NoReturn:
    """A usage error: printed with the command's usage line, exit 2."""
    raise typer.BadParameter(message, param_hint=param)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def done(message: str) -> None:
    out.print(f"[green]✓[/green] {message}")


def split_ref(text: str, *, version_required: bool = False) -> tuple[str, str | None]:
    """``NAME@REF`` into its parts (server names never contain '@')."""
    name, at, ref = text.rpartition("@")
    if not at:
        name, ref = text, ""
    if not name or "/" not in name:
        usage(f"expected a server name like io.github.owner/server, got {text!r}", "NAME")
    if version_required and not ref:
        usage(f"expected NAME@VERSION, got {text!r}", "NAME@VERSION")
    return name, ref or None
