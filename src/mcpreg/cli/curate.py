"""``mcpreg curate``: curate the mirrored catalogue (admin token).

Allow and deny name patterns (for one upstream or every one), mark namespaces local, pin a
server's ``latest``, deprecate a release locally; ``list`` shows everything curated. Each
act goes through the registry's admin API and is journaled there.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from mcpreg.cli.remote import AsJson, Url, cell, done, new_table, out, print_json, remote

app = typer.Typer(
    help="Curate the mirrored catalogue: allow/deny, local namespaces, pins, local deprecations.",
    no_args_is_help=True,
)
Pattern = Annotated[str, typer.Argument(help="A server name or namespace pattern, e.g. 'io.github.acme/*'.")]
Upstream = Annotated[
    str | None, typer.Option("--upstream", help="Only for this upstream [default: every upstream].")
]
Force = Annotated[bool, typer.Option("--force", help="Withhold releases even where they run.")]
Name = Annotated[str, typer.Argument(help="Server name.")]
Version = Annotated[str, typer.Argument(help="Version.")]


def _applied(result: dict[str, Any]) -> str:
    parts = [f"{len(result.get(k) or [])} {k}" for k in ("withheld", "restored") if result.get(k)]
    return f" ({', '.join(parts)})" if parts else ""


def _rule(
    effect: str, pattern: str, upstream: str | None, force: bool, url: str | None, as_json: bool
) -> None:
    with remote(url) as registry:
        result = registry.curate(pattern, effect, upstream=upstream, force=force)
    if as_json:
        print_json(result)
        return
    scope = f" from {escape(upstream)}" if upstream else ""
    done(f"{effect} {escape(pattern)}{scope}{_applied(result)}")


@app.command("allow")
def allow(
    pattern: Pattern,
    upstream: Upstream = None,
    force: Force = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Let names matching PATTERN in (the most specific matching rule decides)."""
    _rule("allow", pattern, upstream, force, url, as_json)


@app.command("deny")
def deny(
    pattern: Pattern,
    upstream: Upstream = None,
    force: Force = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Keep names matching PATTERN out; what is mirrored already is withheld at once."""
    _rule("deny", pattern, upstream, force, url, as_json)


@app.command("forget")
def forget(
    pattern: Pattern,
    upstream: Upstream = None,
    force: Force = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Remove the allow or deny rule of PATTERN."""
    with remote(url) as registry:
        result = registry.forget_rule(pattern, upstream=upstream, force=force)
    if as_json:
        print_json(result)
    else:
        done(f"forgot {escape(pattern)}{_applied(result)}")


@app.command("local")
def local(
    namespace: Annotated[str, typer.Argument(help="A namespace, e.g. io.github.acme.")],
    remove: Annotated[bool, typer.Option("--remove", help="No longer local.")] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Mark NAMESPACE local: publishable here even where an upstream covers it, never synced into."""
    with remote(url) as registry:
        result = registry.set_local(namespace, not remove)
    if as_json:
        print_json(result)
    else:
        done(f"{escape(namespace)} is {'no longer ' if remove else ''}local")


@app.command("pin")
def pin(name: Name, version: Version, url: Url = None, as_json: AsJson = False) -> None:
    """Hold latest of NAME on VERSION, whatever later syncs bring."""
    with remote(url) as registry:
        result = registry.pin(name, version)
    if as_json:
        print_json(result)
    else:
        done(f"{escape(name)} latest pinned to {escape(str(result.get('version')))}")


@app.command("unpin")
def unpin(name: Name, url: Url = None, as_json: AsJson = False) -> None:
    """Let latest of NAME follow the highest active release again."""
    with remote(url) as registry:
        result = registry.unpin(name)
    if as_json:
        print_json(result)
    else:
        done(f"{escape(name)} unpinned, latest {escape(str(result.get('latest')))}")


@app.command("deprecate")
def deprecate(
    name: Name,
    version: Version,
    message: Annotated[str, typer.Option("--message", help="Why, shown to clients.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Deprecate NAME VERSION locally: on a mirrored release no sync undoes it."""
    with remote(url) as registry:
        release = registry.set_status(name, version, "deprecated", message)
    if as_json:
        print_json(release.raw)
    else:
        done(f"{escape(name)}@{escape(version)} deprecated: {escape(message)}")


@app.command("list")
def list_(url: Url = None, as_json: AsJson = False) -> None:
    """Everything curated: rules, local namespaces, pins, local statuses, upstream namespaces."""
    with remote(url) as registry:
        shown = registry.curation()
    if as_json:
        print_json(shown)
        return
    rules = new_table("rule", "pattern", "upstream", "by", title="allow / deny")
    for r in shown["rules"]:
        rules.add_row(cell(r["effect"]), cell(r["pattern"]), cell(r["upstream"]) or "*", cell(r["createdBy"]))
    out.print(rules)
    kept = new_table(
        "server", "version", "status", "message", "upstream says", title="pins and local statuses"
    )
    for p in shown["pins"]:
        kept.add_row(cell(p["server"]), cell(p["version"]), "pinned", "", "")
    for s in shown["localStatuses"]:
        kept.add_row(
            cell(s["server"]),
            cell(s["version"]),
            cell(s["status"]),
            cell(s["statusMessage"]),
            cell(s["upstreamStatus"]),
        )
    out.print(kept)
    owned = new_table("namespace", "owner", title="namespaces")
    for o in shown["owners"]:
        owned.add_row(cell(", ".join(o["namespaces"]) or "*"), cell(o["upstream"]))
    for n in shown["localNamespaces"]:
        owned.add_row(cell(n["namespace"]), "local")
    out.print(owned)
