"""Which namespaces the upstreams own, and the local publishes that ownership refuses.

An upstream owns every server name its namespace patterns cover (``include`` and
``exclude``, as ``mcpreg.domain.mirror.Coverage`` reads them; no include pattern covers
every name). Locally, an owned name is read-only: publishing it (or a draft of it) is
refused with 409 ``namespace_mirrored`` unless an admin marked its namespace local
(``mcpreg curate local NAMESPACE``). A server that holds mirrored releases is never mixed
with local ones, local namespace or not: 409 ``name_clash``. The other direction, an
upstream entry whose name is already taken here, the sync reports as a refused entry
(``CurationPolicy.refusal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.domain.curation import is_local, namespace_of
from mcpreg.domain.mirror import Coverage
from mcpreg.errors import Conflict
from mcpreg.services.curation.policy import local_namespaces
from mcpreg.services.mirror.upstreams import all_upstreams, coverage


@dataclass(frozen=True)
class Owner:
    """One upstream and the names it owns."""

    upstream: str
    coverage: Coverage

    def owns(self, server_name: str) -> bool:
        return self.coverage.covers(server_name)

    @property
    def namespaces(self) -> list[str]:
        """The include patterns (empty: every name)."""
        return list(self.coverage.include)

    @property
    def exclude(self) -> list[str]:
        return list(self.coverage.exclude)


def owners(session: Session) -> list[Owner]:
    """Every upstream's namespace patterns, by upstream name."""
    return [Owner(u.name, coverage(u)) for u in all_upstreams(session)]


def owner_of(session: Session, server_name: str) -> str | None:
    """The upstream that owns ``server_name`` (the first by name), or None: it is local, or
    no upstream covers it, or its namespace is marked local."""
    found = [o for o in owners(session) if o.owns(server_name)]
    if not found or is_local(local_namespaces(session), server_name):
        return None
    return found[0].upstream


def mirrored_from(session: Session, server_name: str) -> str | None:
    """The upstream a server's mirrored releases came from, or None when it has none."""
    return session.exec(
        select(Upstream.name)
        .join(MirroredRelease, col(MirroredRelease.upstream_id) == col(Upstream.id))
        .where(MirroredRelease.server_name == server_name)
        .limit(1)
    ).first()


def _refusal(server_name: str, source: str | None, upstream: str | None) -> Conflict | None:
    if source is not None:
        return Conflict(
            f"{server_name} is mirrored from upstream {source}; local releases are never mixed "
            "into a mirrored server",
            field="/name",
            code="name_clash",
            extra={"upstream": source},
        )
    if upstream is not None:
        namespace = namespace_of(server_name)
        return Conflict(
            f"namespace {namespace} is mirrored from upstream {upstream} and read-only here; "
            f"an admin can mark it local (mcpreg curate local {namespace})",
            field="/name",
            code="namespace_mirrored",
            extra={"upstream": upstream, "namespace": namespace},
        )
    return None


def check_local_publish(session: Session, server_name: str) -> None:
    """Refuse a local publish or draft of a name an upstream owns or a server it mirrored."""
    refused = _refusal(server_name, mirrored_from(session, server_name), owner_of(session, server_name))
    if refused is not None:
        raise refused


@dataclass(frozen=True)
class LocalNames:
    """Ownership read once, to check many names (a bulk import) as ``check_local_publish`` does."""

    owners: tuple[Owner, ...]
    local_namespaces: tuple[str, ...]
    mirrored: dict[str, str]  # server name: the upstream its mirrored releases came from

    def refusal(self, server_name: str) -> Conflict | None:
        owner = next((o.upstream for o in self.owners if o.owns(server_name)), None)
        if owner is not None and is_local(self.local_namespaces, server_name):
            owner = None
        return _refusal(server_name, self.mirrored.get(server_name), owner)


def local_names(session: Session) -> LocalNames:
    mirrored = session.execute(
        select(MirroredRelease.server_name, Upstream.name)
        .join(Upstream, col(Upstream.id) == col(MirroredRelease.upstream_id))
        .distinct()
    ).all()
    return LocalNames(tuple(owners(session)), local_namespaces(session), dict(mirrored))
