"""What a sync asks of curation while it applies an upstream's pages.

``policy(session, upstream)`` reads every curation decision once (a few small queries)
into a ``CurationPolicy`` that answers per entry without touching the database:

* ``refusal(name)``: why an entry must not be stored at all, as a name clash: its namespace
  was marked local, or a server of that name exists here already and was not mirrored from
  this upstream (published locally, or mirrored from another). The sync records it as a
  refused entry with this reason; it never merges the two.
* ``admits(name)``: whether the allow/deny rules let the name in (False too when
  ``refusal`` gives a reason, so a caller that asks only this never merges a clash).
* ``keeps_local_status(name, version)``: whether an admin gave the release a local status
  (``status_override``) that the sync must leave as it is; the sync still records the
  upstream's own status in ``mirrored_release``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import GLOBAL, CurationRule, LocalNamespace, StatusOverride
from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.db.tables import Release
from mcpreg.domain.curation import Rule, admitted, is_local, namespace_of


@dataclass(frozen=True)
class CurationPolicy:
    """Every curation decision one sync of ``upstream`` needs, read once."""

    upstream: str | None = None
    rules: tuple[Rule, ...] = ()
    local_namespaces: tuple[str, ...] = ()
    local_status: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    local_servers: frozenset[str] = field(default_factory=frozenset)  # releases no sync brought
    foreign_servers: frozenset[str] = field(default_factory=frozenset)  # mirrored from another upstream

    def refusal(self, server_name: str) -> str | None:
        """The name clash that keeps this entry out, or None."""
        if is_local(self.local_namespaces, server_name):
            return f"name clash: namespace {namespace_of(server_name)} is marked local here"
        if server_name in self.local_servers:
            return f"name clash: {server_name} is published locally here"
        if server_name in self.foreign_servers:
            return f"name clash: {server_name} is mirrored here from another upstream"
        return None

    def admits(self, server_name: str) -> bool:
        """Whether the allow/deny rules let ``server_name`` in (and no clash keeps it out)."""
        return self.refusal(server_name) is None and admitted(self.rules, self.upstream, server_name)

    def keeps_local_status(self, server_name: str, version: str) -> bool:
        return (server_name, version) in self.local_status


def rules_of(session: Session, upstream: str | None = None) -> tuple[Rule, ...]:
    """Every rule (``upstream`` None), or the global rules and those of one upstream."""
    query = select(CurationRule).order_by(col(CurationRule.id))
    if upstream is not None:
        query = query.where(col(CurationRule.upstream).in_((GLOBAL, upstream)))
    return tuple(
        Rule(r.pattern, r.effect, None if r.upstream == GLOBAL else r.upstream) for r in session.exec(query)
    )


def local_namespaces(session: Session) -> tuple[str, ...]:
    return tuple(session.exec(select(LocalNamespace.namespace).order_by(col(LocalNamespace.namespace))))


def policy(session: Session, upstream: str | None = None) -> CurationPolicy:
    """The curation a sync of ``upstream`` (its name) applies; None: global rules only."""
    kept = session.execute(
        select(Release.server_name, Release.version).join(
            StatusOverride, col(StatusOverride.release_id) == col(Release.id)
        )
    ).all()
    local = session.execute(
        select(Release.server_name)
        .outerjoin(MirroredRelease, col(MirroredRelease.release_id) == col(Release.id))
        .where(col(MirroredRelease.release_id).is_(None))
        .distinct()
    ).scalars()
    foreign: frozenset[str] = frozenset()
    if upstream is not None:
        upstream_id = session.exec(select(Upstream.id).where(Upstream.name == upstream)).first()
        foreign = frozenset(
            session.execute(
                select(MirroredRelease.server_name)
                .where(col(MirroredRelease.upstream_id) != sa.literal(upstream_id or -1))
                .distinct()
            ).scalars()
        )
    return CurationPolicy(
        upstream=upstream,
        rules=rules_of(session, upstream),
        local_namespaces=local_namespaces(session),
        local_status=frozenset((name, version) for name, version in kept),
        local_servers=frozenset(local),
        foreign_servers=foreign,
    )
