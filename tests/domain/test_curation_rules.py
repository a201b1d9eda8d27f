"""The pure curation rule: the most specific matching allow or deny rule decides."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.curation import ALLOW, DENY, Rule, admitted, deciding_rule, is_local

NAME = "io.github.acme/weather"


def test_a_name_no_rule_matches_is_admitted() -> None:
    assert admitted((Rule("io.github.other/*", DENY),), "public", NAME)


def test_a_more_specific_allow_beats_a_broader_deny_and_the_other_way_round() -> None:
    rules = (Rule("*", DENY), Rule("io.github.acme/*", ALLOW))
    assert admitted(rules, "public", NAME)
    assert not admitted(rules, "public", "io.github.other/tool")
    assert not admitted((*rules, Rule(NAME, DENY)), "public", NAME)


def test_a_pattern_matches_the_namespace_as_upstream_patterns_do() -> None:
    assert not admitted((Rule("io.github.acme", DENY),), None, NAME)
    assert not admitted((Rule("io.github.*", DENY),), None, NAME)


def test_on_a_tie_the_upstreams_rule_beats_a_global_one_then_deny_beats_allow() -> None:
    same = (Rule("io.github.acme/*", DENY), Rule("io.github.acme/*", ALLOW, "public"))
    assert admitted(same, "public", NAME)
    assert not admitted(same, "other", NAME)  # the upstream's rule does not apply there
    assert not admitted((Rule("io.github.acme/*", ALLOW), Rule("io.github.acme/?*", DENY)), None, NAME)


def test_a_local_namespace_is_a_namespace_or_a_pattern_of_namespaces() -> None:
    assert is_local(("io.github.acme",), NAME)
    assert is_local(("io.github.*",), NAME)
    assert not is_local(("io.github.ac",), NAME)


_patterns = st.sampled_from(["*", "io.*", "io.github.*", "io.github.acme", "io.github.acme/*", NAME, "?o.*"])
_rules = st.lists(
    st.builds(Rule, _patterns, st.sampled_from([ALLOW, DENY]), st.sampled_from([None, "public", "other"])),
    max_size=8,
)


@given(_rules, st.randoms())
def test_the_decision_does_not_depend_on_the_order_rules_were_made(
    rules: list[Rule], shuffle: random.Random
) -> None:
    shuffled = list(rules)
    shuffle.shuffle(shuffled)
    for upstream in (None, "public", "other"):
        assert admitted(tuple(rules), upstream, NAME) == admitted(tuple(shuffled), upstream, NAME)
        decided = deciding_rule(tuple(rules), upstream, NAME)
        assert decided is None or (decided.matches(NAME) and decided.applies_to(upstream))
