"""``mcpreg login``, ``logout`` and ``whoami``: the saved credentials for a registry."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.markup import escape

from mcpreg.cli.credentials import Credentials
from mcpreg.cli.files import UnreadableFile, read_stdin
from mcpreg.cli.remote import (
    AsJson,
    Url,
    cell,
    done,
    fail,
    out,
    print_json,
    refuse,
    registry_url,
    remote,
    usage,
)
from mcpreg.client import Registry, RegistryClientError


def read_token(prompt: str = "Token: ") -> str:
    """A token from stdin when it is piped, else from a prompt that does not echo; never argv."""
    try:
        value = getpass.getpass(prompt) if sys.stdin.isatty() else read_stdin(line=True)
    except UnreadableFile as exc:
        fail(str(exc))
    return value.strip()


def login(
    url: Url = None,
    verify: Annotated[bool, typer.Option(help="Check the token with the registry before saving it.")] = True,
    as_json: AsJson = False,
) -> None:
    """Save a token for a registry (read from stdin or a hidden prompt) and make it the default."""
    base = registry_url(url)
    token = read_token(f"Token for {base}: ")
    if not token:
        usage("no token given (pipe it on stdin or type it at the prompt)")
    if not token.isascii():
        usage("that is not an mcpreg token: tokens are ASCII text (mcpreg_...)")
    who: dict[str, object] = {}
    if verify:
        try:
            with Registry(base, token=token, cache_ttl=0) as registry:
                who = registry.whoami()
        except RegistryClientError as exc:
            refuse(exc)
    credentials = Credentials.load()
    credentials.tokens[base] = token
    credentials.default_url = base
    path = credentials.save()
    if as_json:
        print_json({"url": base, "config": str(path), **who})
        return
    name = f" as [bold]{escape(str(who.get('name')))}[/bold]" if who else ""
    done(f"logged in to {escape(base)}{name}; saved in {escape(str(path))}")


def logout(url: Url = None) -> None:
    """Forget the saved token of a registry."""
    base = registry_url(url)
    credentials = Credentials.load()
    if credentials.tokens.pop(base, None) is None:
        out.print(f"no saved token for {escape(base)}")
        return
    if credentials.default_url == base:
        credentials.default_url = next(iter(credentials.tokens), None)
    credentials.save()
    done(f"logged out of {escape(base)}")


def whoami(url: Url = None, as_json: AsJson = False) -> None:
    """Who the registry takes you for: token name, scopes, namespaces, environments."""
    with remote(url) as registry:
        who = registry.whoami()
        base = registry.url
    if as_json:
        print_json(who)
        return
    if not who.get("scopes"):
        out.print(f"anonymous at {escape(base)} (set MCPREG_TOKEN or run `mcpreg login`)")
        return
    out.print(f"[bold]{escape(str(who.get('name')))}[/bold] at {escape(base)}")
    for key in ("scopes", "namespaces", "environments"):
        out.print(f"  {key}: {cell(who.get(key)) or '*'}")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
