"""Pure rules of curation: which allow or deny rule decides a mirrored server name.

A rule is a pattern matched as an upstream's namespace patterns are (``fnmatch``,
case-sensitive, on the whole server name or on its namespace: ``Coverage`` in
:mod:`mcpreg.domain.mirror`), with an effect, for one upstream or for every upstream.
Among the rules that match a name, the most specific decides: the one with the most
literal (non-wildcard) characters; on a tie a rule of the upstream beats a global one,
then ``deny`` beats ``allow``. A name no rule matches is admitted. So ``deny *`` plus
``allow io.github.acme/*`` mirrors only acme's servers, and ``deny io.github.evil``
keeps one namespace out of an otherwise open mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpreg.domain.mirror import Coverage

ALLOW, DENY = "allow", "deny"
EFFECTS = (ALLOW, DENY)
_WILDCARDS = frozenset("*?[]")


@dataclass(frozen=True)
class Rule:
    """One allow or deny pattern; ``upstream`` None for a rule over every upstream."""

    pattern: str
    effect: str
    upstream: str | None = None

    def matches(self, server_name: str) -> bool:
        return Coverage(include=(self.pattern,)).covers(server_name)

    def applies_to(self, upstream: str | None) -> bool:
        return self.upstream is None or self.upstream == upstream

    def rank(self) -> tuple[int, bool, bool]:
        literal = sum(1 for c in self.pattern if c not in _WILDCARDS)
        return literal, self.upstream is not None, self.effect == DENY


def deciding_rule(rules: tuple[Rule, ...], upstream: str | None, server_name: str) -> Rule | None:
    """The rule that decides ``server_name`` coming from ``upstream``, or None when none matches."""
    matching = [r for r in rules if r.applies_to(upstream) and r.matches(server_name)]
    return max(matching, key=Rule.rank) if matching else None


def admitted(rules: tuple[Rule, ...], upstream: str | None, server_name: str) -> bool:
    rule = deciding_rule(rules, upstream, server_name)
    return rule is None or rule.effect == ALLOW


def namespace_of(server_name: str) -> str:
    """What comes before the slash of a server name (the whole name when it has none)."""
    return server_name.split("/", 1)[0]


def is_local(local_namespaces: tuple[str, ...], server_name: str) -> bool:
    """Whether an admin marked the server's namespace local (each entry a namespace or pattern)."""
    namespace = namespace_of(server_name)
    return any(Coverage(include=(n,)).covers(namespace) for n in local_namespaces)
