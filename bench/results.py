"""The collected numbers of a whole benchmark run, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.importer import ImportResult
from bench.machine import Machine
from bench.workload import LoadResult

SCENARIOS = ("list", "detail", "resolve", "revalidate", "publish")
BASELINE = "baseline"


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario measured on one target (``sqlite``, ``postgresql`` or ``baseline``) at one size."""

    scenario: str
    target: str
    size: int
    load: LoadResult
    response_bytes: int | None
    implementation: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "target": self.target,
            "size": self.size,
            "response_bytes": self.response_bytes,
            "implementation": self.implementation,
            **self.load.as_dict(),
        }


@dataclass
class Results:
    """Everything measured, plus the notes explaining what was skipped and why."""

    machine: Machine
    options: dict[str, Any]
    imports: list[ImportResult] = field(default_factory=list)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    rss_mb: dict[tuple[str, int], float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    validation: dict[int, str] = field(default_factory=dict)

    def find(self, scenario: str, target: str, size: int) -> ScenarioResult | None:
        return next(
            (r for r in self.scenarios if (r.scenario, r.target, r.size) == (scenario, target, size)), None
        )

    def ratio(self, result: ScenarioResult) -> float | None:
        """Requests/s of ``result`` over its baseline's, for mcpreg rows."""
        if result.target == BASELINE:
            return None
        base = self.find(result.scenario, BASELINE, result.size)
        if base is None or base.load.rps <= 0:
            return None
        return result.load.rps / base.load.rps

    def scaling(self, result: ScenarioResult) -> float | None:
        """Requests/s of ``result`` over the same scenario and target at the smallest size measured."""
        sizes = sorted(
            {r.size for r in self.scenarios if (r.scenario, r.target) == (result.scenario, result.target)}
        )
        if len(sizes) < 2 or result.size == sizes[0]:
            return None
        first = self.find(result.scenario, result.target, sizes[0])
        if first is None or first.load.rps <= 0:
            return None
        return result.load.rps / first.load.rps

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.scenarios:
            ratio, scaling = self.ratio(r), self.scaling(r)
            rows.append(
                {
                    **r.as_dict(),
                    "ratio_to_baseline": None if ratio is None else round(ratio, 3),
                    "ratio_to_smallest_size": None if scaling is None else round(scaling, 3),
                    "peak_rss_mb": round(self.rss_mb.get((r.target, r.size), 0.0), 1) or None,
                }
            )
        return {
            "machine": self.machine.as_dict(),
            "options": self.options,
            "catalogue_validation": {str(k): v for k, v in self.validation.items()},
            "imports": [i.as_dict() for i in self.imports],
            "scenarios": rows,
            "peak_rss_mb": [
                {"target": target, "size": size, "peak_rss_mb": round(mb, 1)}
                for (target, size), mb in sorted(self.rss_mb.items())
            ],
            "notes": self.notes,
        }
