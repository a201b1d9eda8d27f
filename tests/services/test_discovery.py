"""Reads of the catalogue: list pages walk an index in list order; one-statement lookups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.domain.principal import SYSTEM
from mcpreg.services import discovery, releases
from tests.conftest import server_doc


def _plan(session: Session, query: sa.Select[Any]) -> str:
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if session.get_bind().dialect.name == "sqlite" else "EXPLAIN "
    rows = session.connection().exec_driver_sql(prefix + str(compiled)).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_a_list_page_after_a_cursor_is_a_range_scan_of_the_listing_index_without_a_sort(
    session: Session,
) -> None:
    for i in range(30):
        releases.create_release(session, SYSTEM, server_doc(name=f"com.example/s{i:02d}", version="1.0.0"))
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # On a table this small any plan is cheap: say what 100,000 releases make true, and
        # see whether the index can give the page in list order (else a Sort shows anyway).
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            session.connection().exec_driver_sql(f"SET LOCAL {setting} = off")
    cursor = discovery.encode_cursor("com.example/s10", "01" * 3 + "~")
    plan = _plan(session, discovery.page_query(discovery.ListQuery(cursor=cursor, limit=5)))
    assert "ix_release_listing" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_latest_and_exact_versions_are_found_in_one_statement_and_hidden_when_not_visible(
    session: Session,
) -> None:
    name = "io.github.acme/weather"
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        releases.create_release(session, SYSTEM, server_doc(name=name, version=version))
    releases.create_release(session, SYSTEM, server_doc(name=name, version="3.0.0"), draft=True)
    releases.set_status(session, SYSTEM, name, "1.0.0", "deleted")
    session.commit()
    latest = discovery.published(session, name, "latest")
    assert latest is not None and (latest.is_latest, latest.status) == (True, "active")
    assert discovery.latest_rows(session, [name, "com.example/none"]).keys() == {name}
    assert discovery.published(session, name, "3.0.0") is None  # a draft
    assert discovery.published(session, name, "1.0.0") is None  # deleted
    assert discovery.published(session, name, "1.0.0", include_deleted=True) is not None
    assert discovery.published(session, name, "stable") is None  # a channel name: lookup's job
    assert discovery.lookup(session, name, "latest").version == "1.1.0"
