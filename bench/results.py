"""The collected numbers of a whole benchmark run, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.importer import ImportResult
from bench.machine import Machine
from bench.workload import LoadResult

SCENARIOS = ("list", "detail", "resolve", "revalidate", "publish")
READS = ("list", "detail", "resolve", "revalidate")
STARLETTE = "starlette"  # the bare-Starlette baseline: what a framework handler costs
RAW = "raw-asgi"  # the raw ASGI baseline: the most this stack serves, the generator check's ceiling
BASELINES = (STARLETTE, RAW)
BASELINE = STARLETTE  # what the targets' ratios are against
# A baseline (or, with the python generator, mcpreg) within this share of the raw ASGI
# app's rate is limited by the load generator, not by the server: no ratio is printed.
CEILING_SHARE = 0.8


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario measured on one target (``sqlite``, ``postgresql`` or a baseline) at one size.

    ``server_cpu`` is the CPU time the server process (all threads) used over the timed run's
    duration; ``loop_busy`` the share of the run its event-loop thread was running or ready
    to run (``service.ServerProcess.loop_busy_seconds``).
    """

    scenario: str
    target: str
    size: int
    load: LoadResult
    response_bytes: int | None
    implementation: dict[str, str]
    server_cpu: float | None = None
    loop_busy: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "target": self.target,
            "size": self.size,
            "response_bytes": self.response_bytes,
            "implementation": self.implementation,
            "server_cpu": None if self.server_cpu is None else round(self.server_cpu, 3),
            "loop_busy": None if self.loop_busy is None else round(self.loop_busy, 3),
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

    def generator_bound(self, scenario: str, size: int) -> str | None:
        """Why the ratios of ``scenario`` at ``size`` would measure the load generator, or None.

        A baseline has no database to wait on: if its event loop had work for less than
        ``CEILING_SHARE`` of the run, it spent the rest waiting for requests, so what it
        measured is the generator's rate, not its own. The python generator also tops out
        near the rates mcpreg reaches, so with it a target within ``CEILING_SHARE`` of the
        raw ASGI rate is refused too, and so is a run whose raw ASGI ceiling is missing.
        Publishing (httpx, 4 connections) is not checked: its ratio is rough by design.
        """
        if scenario not in READS:
            return None
        generator = self.options.get("load_generator", "wrk")
        raw = self.find(scenario, RAW, size)
        for target in BASELINES:
            found = self.find(scenario, target, size)
            if found is not None and found.loop_busy is not None and found.loop_busy < CEILING_SHARE:
                return (
                    f"the {target} baseline's event loop had work for {found.loop_busy:.0%} of the run: "
                    f"it waited for the {generator} generator"
                )
        if generator == "wrk":
            return None
        if raw is None or raw.load.rps <= 0:
            return "the raw ASGI ceiling was not measured"
        for found in [self.find(scenario, STARLETTE, size), *self._mcpreg(scenario, size)]:
            if found is not None and found.load.rps >= CEILING_SHARE * raw.load.rps:
                return (
                    f"{found.target} reached {found.load.rps / raw.load.rps:.0%} of the raw ASGI "
                    f"ceiling ({raw.load.rps:,.0f} req/s) with the {generator} generator"
                )
        return None

    def contended(self, scenario: str, size: int) -> list[str]:
        """Targets of ``scenario`` at ``size`` whose event loop had work but got less than
        ``CEILING_SHARE`` of a core: another process took the CPU, so their rate (and every
        ratio against it) is low by an unknown amount."""
        return [
            f"{r.target} ran {r.server_cpu:.0%} of a core while its loop had work {r.loop_busy:.0%} of it"
            for r in self.scenarios
            if (r.scenario, r.size) == (scenario, size)
            and r.server_cpu is not None
            and r.loop_busy is not None
            and r.server_cpu < CEILING_SHARE <= r.loop_busy
        ]

    def _mcpreg(self, scenario: str, size: int) -> list[ScenarioResult]:
        return [
            r
            for r in self.scenarios
            if (r.scenario, r.size) == (scenario, size) and r.target not in BASELINES
        ]

    def ratio(self, result: ScenarioResult, against: str = BASELINE) -> float | None:
        """Requests/s of ``result`` over the ``against`` baseline's, for mcpreg rows; None when
        that baseline is missing or the generator was the bottleneck (``generator_bound``)."""
        if result.target in BASELINES:
            return None
        base = self.find(result.scenario, against, result.size)
        if base is None or base.load.rps <= 0 or self.generator_bound(result.scenario, result.size):
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
            ratio, raw, scaling = self.ratio(r), self.ratio(r, RAW), self.scaling(r)
            rows.append(
                {
                    **r.as_dict(),
                    "ratio_to_starlette": None if ratio is None else round(ratio, 3),
                    "ratio_to_raw_asgi": None if raw is None else round(raw, 3),
                    "generator_bound": self.generator_bound(r.scenario, r.size),
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
