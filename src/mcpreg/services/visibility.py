"""Which deployment records a caller may read: those of the servers its token covers.

Environment-wide listings (the deployment requests of an environment, its history) hold
the records of every server deployed there. A token limited to some namespaces reads
only its own servers' records from them, as the per-server endpoints already refuse the
others with ``namespace_denied``. Namespace patterns are shell-style (``fnmatch``), so
the filter runs here rather than in SQL: newest first, a batch at a time, until a page
is full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

Visible = Callable[[str], bool]
"""Whether the caller may read the records of the server of that name."""

BATCH = 500


class _Record(Protocol):
    id: int | None
    server_name: str


R = TypeVar("R", bound=_Record)


def newest_visible(
    session: Session, query: SelectOfScalar[R], id_column: Any, visible: Visible | None, count: int
) -> list[R]:
    """Up to ``count`` rows of ``query``, newest (highest id) first, that ``visible`` keeps."""
    if visible is None:
        return list(session.exec(query.order_by(id_column.desc()).limit(count)))
    kept: list[R] = []
    before: int | None = None
    while len(kept) < count:
        batch_query = query if before is None else query.where(id_column < before)
        batch = list(session.exec(batch_query.order_by(id_column.desc()).limit(BATCH)))
        kept += [row for row in batch if visible(row.server_name)]
        if len(batch) < BATCH:
            break
        before = batch[-1].id
    return kept[:count]
