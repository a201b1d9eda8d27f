"""``mcpreg tokens``: create, list and revoke API tokens (direct database access)."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from mcpreg.api.schemas.tokens import CreatedToken, Token
from mcpreg.cli.local import fail, local_session
from mcpreg.cli.tables import cell, new_table, when
from mcpreg.domain.principal import Principal
from mcpreg.errors import RegistryError
from mcpreg.services import tokens

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
out = Console()
OPERATOR = Principal(name="cli", scopes=frozenset({"admin"}), token_id=0)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="A unique name; it is the principal recorded in history."),
    scope: list[str] = typer.Option(
        ..., "--scope", help="read, publish, deploy, admin, secrets:read or connect (repeatable)."
    ),
    namespace: list[str] = typer.Option(
        [], "--namespace", help="Server name pattern, e.g. 'io.github.acme/*'."
    ),
    environment: list[str] = typer.Option([], "--environment", help="Environment pattern for deploy tokens."),
    expires_in: str | None = typer.Option(
        None,
        "--expires-in",
        help="Stop working after this long: 30d, 12h, 1d12h (at most 365d); default never.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a token and print it once; only its hash is stored."""
    try:
        expires_at = tokens.expiry(expires_in=expires_in)
    except RegistryError as exc:
        exc.field = "--expires-in"
        fail(exc)
        raise
    with local_session() as session:
        created = tokens.create_token(
            session,
            OPERATOR,
            name=name,
            scopes=scope,
            namespaces=namespace,
            environments=environment,
            expires_at=expires_at,
        )
    if as_json:
        print(CreatedToken.of(created).model_dump_json())
    else:
        print(created.token)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List tokens (never their values)."""
    with local_session(write=False) as session:
        rows = [Token.of(t).model_dump(mode="json") for t in tokens.list_tokens(session)]
    if as_json:
        print(json.dumps(rows))
        return
    table = new_table("name", "scopes", "namespaces", "environments", "created", "expires", "status")
    for row in rows:
        table.add_row(
            cell(row["name"]),
            cell(row["scopes"]),
            cell(row["namespaces"]) or "*",
            cell(row["environments"]) or "*",
            when(row["createdAt"]),
            when(row["expiresAt"]) or "never",
            "revoked" if row["revoked"] else "expired" if row["expired"] else "active",
        )
    out.print(table)


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The token's name.")) -> None:
    """Revoke a token at once."""
    with local_session() as session:
        tokens.revoke_token(session, OPERATOR, name)
    print(f"revoked {name}")
