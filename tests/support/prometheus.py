"""Reading ``/metrics`` in tests: every sample, parsed by ``prometheus_client``'s own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(seen: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series that was never written (as Prometheus reads it)."""
    return seen.get((name, frozenset(labels.items())), 0.0)
