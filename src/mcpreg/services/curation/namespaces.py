"""Local namespaces: an admin's word that a namespace belongs to this registry.

Publishing into a local namespace is allowed even where an upstream's patterns cover it
(``services.ownership``), and no sync brings entries into it: the sync reports them as
name clashes (``CurationPolicy.refusal``). Journaled as ``curation.local`` and
``curation.local.remove``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import LocalNamespace
from mcpreg.domain.principal import Principal
from mcpreg.errors import BadRequest, Conflict, NotFound, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.curation.rules import check_rule_pattern
from mcpreg.services.tokens import require


def _check_namespace(namespace: object) -> str:
    checked = check_rule_pattern(namespace, "namespace")
    if "/" in checked:
        raise ValidationFailed(
            "a namespace is what comes before the '/' of a server name, e.g. io.github.acme",
            field="namespace",
            code="invalid_curation",
        )
    return checked


@dataclass(frozen=True)
class LocalNamespaceInfo:
    namespace: str
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, row: LocalNamespace) -> LocalNamespaceInfo:
        return cls(row.namespace, row.created_at, row.created_by)


def mark_local(session: Session, principal: Principal, namespace: object) -> LocalNamespaceInfo:
    require(principal, "admin")
    checked = _check_namespace(namespace)
    if session.get(LocalNamespace, checked) is not None:
        raise BadRequest(f"namespace {checked} is already local", field="namespace", code="no_changes")
    row = LocalNamespace(namespace=checked, created_by=principal.name)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # marked by a concurrent request first
        raise Conflict(f"namespace {checked} was just marked local", field="namespace") from None
    info = LocalNamespaceInfo.of(row)
    journal.record(session, principal, "curation.local", after=info)
    return info


def unmark_local(session: Session, principal: Principal, namespace: object) -> LocalNamespaceInfo:
    """Unmark a local namespace; the answer is what was removed."""
    require(principal, "admin")
    checked = _check_namespace(namespace)
    row = session.get(LocalNamespace, checked)
    if row is None:
        detail = f"namespace {checked} is not marked local"
        raise NotFound(detail, field="namespace", code="curation_not_found")
    info = LocalNamespaceInfo.of(row)
    session.delete(row)
    journal.record(session, principal, "curation.local.remove", before=info)
    return info


def list_local(session: Session) -> list[LocalNamespaceInfo]:
    rows = session.exec(select(LocalNamespace).order_by(col(LocalNamespace.namespace)))
    return [LocalNamespaceInfo.of(r) for r in rows]
