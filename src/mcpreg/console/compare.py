"""Compare: any two versions of a server, change by change, identity-matched as the diff API.

The changes come from ``domain.diff.diff_documents`` (what ``GET .../diff`` answers):
packages match by registry type and identifier, remotes by URL, variables, headers and
arguments by name. Each change shows a sign, a word and a colour: "+ added" green,
"- removed" red, "~ changed" blue; the old and new values sit side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import server_name
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, may_see_drafts, page, visit
from mcpreg.domain.diff import diff_documents
from mcpreg.services import discovery, releases

SIGNS = {"added": "+", "removed": "-", "changed": "~"}
MAX_REF = 255


@dataclass(frozen=True)
class Shown:
    """One change as the page shows it."""

    op: str
    sign: str
    path: str
    old: str | None
    new: str | None


def _text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _pretty(document: str) -> str:
    return _text(orjson.loads(document))


def _ref(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value[:MAX_REF] or None


@page
async def compare(request: Request) -> Response:
    name = server_name(request)
    old_ref, new_ref = _ref(request, "from"), _ref(request, "to")

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        drafts = may_see_drafts(visitor.principal, name)
        server = releases.get_server(session, name)
        versions = [
            r.version for r in releases.all_releases(session, server) if r.status != "draft" or drafts
        ]
        context: dict[str, Any] = {"visitor": visitor, "versions": versions, "changes": None}
        old_version = old_ref or (versions[1] if len(versions) > 1 else None)
        new_version = new_ref or (versions[0] if versions else None)
        context.update(old_version=old_version, new_version=new_version)
        if old_ref and new_ref:
            old = discovery.lookup(session, name, old_ref, include_deleted=True, include_drafts=drafts)
            new = discovery.lookup(session, name, new_ref, include_deleted=True, include_drafts=drafts)
            changes = diff_documents(orjson.loads(old.document), orjson.loads(new.document))
            context.update(
                old_version=old.version,
                new_version=new.version,
                old_document=_pretty(old.document),
                new_document=_pretty(new.document),
                changes=[
                    Shown(
                        op=c.op,
                        sign=SIGNS[c.op],
                        path=c.path,
                        old=None if c.op == "added" else _text(c.old),
                        new=None if c.op == "removed" else _text(c.new),
                    )
                    for c in changes
                ],
            )
        return context

    context = await visit(request, work)
    return render(request, "compare.html", {**context, "title": f"Compare {name}", "name": name})
