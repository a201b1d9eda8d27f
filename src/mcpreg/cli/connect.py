"""``mcpreg connect``: the gateway URL of a server in an environment, and client configuration.

Prints the endpoint and two ready-to-paste configurations: VS Code's ``mcp.json`` (the
token asked for by VS Code itself, through an ``inputs`` prompt) and a generic
``{"url": ..., "headers": ...}`` that most MCP clients take. The token is a placeholder
unless ``--show-token`` asks for the one this CLI uses (``MCPREG_TOKEN`` or ``mcpreg login``).
An environment whose gateway is public needs no token: no ``Authorization`` header is shown.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.credentials import Credentials
from mcpreg.cli.remote import AsJson, Url, err, out, print_json, registry_url, remote
from mcpreg.client.calls import gateway_path

Name = Annotated[str, typer.Argument(help="Server name.")]
Env = Annotated[str, typer.Option("--env", "-e", help="The environment.")]
TOKEN_INPUT = "mcpreg-token"
PLACEHOLDER = "<MCPREG_TOKEN>"  # what the generic configuration shows instead of a token


def configurations(
    name: str, url: str, *, token: str | None, public: bool, client_id: str | None = None
) -> dict[str, Any]:
    """The gateway ``url`` and the client configurations that reach it.

    ``token`` None writes placeholders: VS Code's ``${input:...}`` prompt, and ``<MCPREG_TOKEN>``.
    """
    sticky = {"X-Client-Id": client_id} if client_id else {}
    if public:
        vscode_headers, generic_headers = dict(sticky), dict(sticky)
    else:
        vscode_token = token or f"${{input:{TOKEN_INPUT}}}"
        vscode_headers = {"Authorization": f"Bearer {vscode_token}", **sticky}
        generic_headers = {"Authorization": f"Bearer {token or PLACEHOLDER}", **sticky}
    key = name.rpartition("/")[2]
    entry: dict[str, Any] = {"type": "http", "url": url}
    if vscode_headers:
        entry["headers"] = vscode_headers
    vscode: dict[str, Any] = {"servers": {key: entry}}
    if not public and token is None:
        vscode["inputs"] = [
            {
                "type": "promptString",
                "id": TOKEN_INPUT,
                "description": "mcpreg token with the connect scope",
                "password": True,
            }
        ]
    generic: dict[str, Any] = {"url": url}
    if generic_headers:
        generic["headers"] = generic_headers
    return {"server": name, "url": url, "public": public, "vscode": vscode, "generic": generic}


def connect(
    name: Name,
    env: Env,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="Send X-Client-Id: stick this client to one version."),
    ] = None,
    show_token: Annotated[
        bool, typer.Option("--show-token", help="Write this CLI's token in, not a placeholder.")
    ] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """The gateway URL of NAME in --env and configuration to paste into an MCP client."""
    base = registry_url(url)
    with remote(url) as registry:
        state = registry.rollout(name, env)  # the server and environment exist; what runs there
        environment = next((e for e in registry.environments() if e.get("name") == env), {})
    public = bool(environment.get("gatewayPublic"))
    token = None
    if show_token and not public:
        token = os.environ.get("MCPREG_TOKEN") or Credentials.load().token_for(base)
        if not token:
            err.print("[yellow]no token to show[/yellow] (MCPREG_TOKEN or `mcpreg login`): a placeholder is")
    found = configurations(
        name, base + gateway_path(env, name), token=token, public=public, client_id=client_id
    )
    if as_json:
        print_json(found)
        return
    out.print(f"[bold]gateway[/bold] {escape(found['url'])}")
    if state.get("stable"):
        routed = f"stable {state['stable']}"
        if state.get("canary"):
            routed += f", canary {state['canary']} at {float(state.get('weight') or 0):g}%"
        out.print(f"[bold]routes to[/bold] {escape(routed)}")
    else:
        err.print(f"[yellow]nothing of {escape(name)} is deployed in {escape(env)} yet[/yellow]")
    access = "public: no token needed" if public else "a token with the connect scope"
    out.print(f"[bold]access[/bold] {access}")
    out.print("\n[bold]VS Code[/bold] (.vscode/mcp.json):")
    out.print(json.dumps(found["vscode"], indent=2), markup=False)
    out.print("\n[bold]Other MCP clients[/bold] (streamable HTTP):")
    out.print(json.dumps(found["generic"], indent=2), markup=False)


def register(app: typer.Typer) -> None:
    app.command("connect")(connect)
