"""Allow and deny rules: set, change, remove; applied at once to what is mirrored already.

A rule change that stops admitting a mirrored server withholds it: each of its mirrored
releases is marked deleted ("withheld by curation"), so listings drop it and downstream
mirrors, which see deletions through ``updated_since``, learn of it. A change that admits
one again restores each release to its local status (``status_override``) or else to the
upstream's last known status. Withholding a release that runs in an environment is refused
(``release_in_use``) unless forced, and a rule change while a sync of an upstream it
concerns runs is refused (``sync_in_progress``): that sync read the rules when it started.
Every act is journaled (``curation.allow``, ``curation.deny``, ``curation.rule.remove``, and
``curation.withhold`` / ``curation.restore`` per server, ``services.curation.withholding``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import GLOBAL, CurationRule
from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.db.types import utcnow
from mcpreg.domain.curation import EFFECTS, Rule, admitted
from mcpreg.domain.mirror import check_pattern
from mcpreg.domain.principal import Principal
from mcpreg.errors import BadRequest, Conflict, NotFound, ValidationFailed
from mcpreg.services import journal, leases
from mcpreg.services.curation import withholding
from mcpreg.services.curation.policy import rules_of
from mcpreg.services.mirror import upstreams
from mcpreg.services.mirror.sync import lease_name
from mcpreg.services.tokens import require

WITHHELD = withholding.WITHHELD


def check_rule_pattern(pattern: object, field: str = "pattern") -> str:
    reason = check_pattern(pattern) if isinstance(pattern, str) else "a pattern is a string"
    if reason is not None:
        raise ValidationFailed(reason, field=field, code="invalid_curation")
    assert isinstance(pattern, str)
    return pattern


def _check_effect(effect: object) -> str:
    if effect not in EFFECTS:
        raise ValidationFailed("effect is allow or deny", field="effect", code="invalid_curation")
    return str(effect)


def _scope(session: Session, upstream: object) -> str:
    """The ``curation_rule.upstream`` of a rule: an existing upstream's name, or '' for all."""
    if upstream is None or upstream == GLOBAL:
        return GLOBAL
    if not isinstance(upstream, str):
        raise ValidationFailed("upstream is an upstream's name", field="upstream", code="invalid_curation")
    if upstreams.find(session, upstream) is None:
        raise NotFound(f"no upstream named {upstream!r}", field="upstream", code="upstream_not_found")
    return upstream


@dataclass(frozen=True)
class RuleInfo:
    """An allow or deny rule (``upstream`` None: every upstream)."""

    pattern: str
    effect: str
    upstream: str | None
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, row: CurationRule) -> RuleInfo:
        return cls(row.pattern, row.effect, row.upstream or None, row.created_at, row.created_by)


@dataclass(frozen=True)
class RuleChange(RuleInfo):
    """A rule set or removed, and what that did at once to the mirrored servers."""

    withheld: list[str]
    restored: list[str]

    @classmethod
    def made(cls, rule: RuleInfo, applied: Applied) -> RuleChange:
        return cls(**vars(rule), withheld=applied.withheld, restored=applied.restored)


def _find(session: Session, scope: str, pattern: str) -> CurationRule | None:
    return session.exec(
        select(CurationRule).where(CurationRule.upstream == scope, CurationRule.pattern == pattern)
    ).first()


@dataclass
class Applied:
    """What a rule change did to the mirrored servers."""

    withheld: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"withheld": self.withheld, "restored": self.restored}


def set_rule(
    session: Session,
    principal: Principal,
    pattern: object,
    effect: object,
    upstream: object = None,
    *,
    force: bool = False,
) -> RuleChange:
    """Allow or deny ``pattern`` (for one upstream, or every one); a rule of the same pattern
    and scope changes its effect. Applied at once to the servers mirrored already."""
    require(principal, "admin")
    checked, wanted = check_rule_pattern(pattern), _check_effect(effect)
    scope = _scope(session, upstream)
    before = rules_of(session)
    row = _find(session, scope, checked)
    previous = row.effect if row is not None else None
    if previous == wanted:
        raise BadRequest(f"{checked} is already {wanted}ed", field="effect", code="no_changes")
    _refuse_while_syncing(session, scope)
    row = row or CurationRule(upstream=scope, pattern=checked, effect=wanted, created_by=principal.name)
    row.effect, row.created_at, row.created_by = wanted, utcnow(), principal.name
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # the same rule, created by a concurrent request first
        raise Conflict(f"{checked} was just set by another change; look again", field="pattern") from None
    applied = reapply(session, principal, before, rules_of(session), force=force)
    change = RuleChange.made(RuleInfo.of(row), applied)
    journal.record(session, principal, f"curation.{wanted}", before={"effect": previous}, after=change)
    return change


def remove_rule(
    session: Session, principal: Principal, pattern: object, upstream: object = None, *, force: bool = False
) -> RuleChange:
    """Remove a rule; the answer is the rule removed and what that did."""
    require(principal, "admin")
    checked = check_rule_pattern(pattern)
    scope = _scope(session, upstream)
    row = _find(session, scope, checked)
    if row is None:
        where = f" for upstream {scope}" if scope else ""
        detail = f"no allow or deny rule {checked!r}{where}"
        raise NotFound(detail, field="pattern", code="curation_not_found")
    _refuse_while_syncing(session, scope)
    before = rules_of(session)
    removed = RuleInfo.of(row)
    session.delete(row)
    session.flush()
    applied = reapply(session, principal, before, rules_of(session), force=force)
    journal.record(session, principal, "curation.rule.remove", before=removed, after=applied.as_dict())
    return RuleChange.made(removed, applied)


def _refuse_while_syncing(session: Session, scope: str) -> None:
    names = [scope] if scope else [u.name for u in upstreams.all_upstreams(session)]
    for name in names:
        if leases.holder_of(session, lease_name(name)) is not None:
            raise Conflict(
                f"upstream {name!r} is being synced now; change its rules when that ends",
                field="upstream",
                code="sync_in_progress",
            )


def list_rules(session: Session) -> list[RuleInfo]:
    rows = session.exec(select(CurationRule).order_by(col(CurationRule.upstream), col(CurationRule.pattern)))
    return [RuleInfo.of(r) for r in rows]


def reapply(
    session: Session,
    principal: Principal,
    before: tuple[Rule, ...],
    after: tuple[Rule, ...],
    *,
    force: bool = False,
) -> Applied:
    """Withhold the mirrored servers ``after`` no longer admits, restore those it admits again."""
    mirrored = session.execute(
        select(MirroredRelease.server_name, Upstream.name)
        .join(Upstream, col(Upstream.id) == col(MirroredRelease.upstream_id))
        .distinct()
        .order_by(col(MirroredRelease.server_name))
    ).all()
    applied = Applied()
    for name, upstream in mirrored:
        was, now = admitted(before, upstream, name), admitted(after, upstream, name)
        if was and not now:
            applied.withheld.append(name)
        elif now and not was:
            applied.restored.append(name)
    if applied.withheld:
        withholding.withhold(session, principal, applied.withheld, force=force)
    if applied.restored:
        withholding.restore(session, principal, applied.restored)
    return applied
