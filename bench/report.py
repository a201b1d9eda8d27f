"""Tables on the console, ``results.json`` and the verdict against the targets (reported, not asserted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.results import BASELINES, RAW, READS, SCENARIOS, STARLETTE, Results, ScenarioResult


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def _order(r: ScenarioResult) -> tuple[int, int, str]:
    rank = f"~{BASELINES.index(r.target)}" if r.target in BASELINES else r.target
    return (r.size, SCENARIOS.index(r.scenario), rank)


def load_table(results: Results) -> Table:
    table = Table(title="HTTP load (64 connections; publish: 4 sequential connections)")
    for name, justify in (
        ("scenario", "left"),
        ("backend", "left"),
        ("size", "right"),
        ("req/s", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("errors", "right"),
        ("resp bytes", "right"),
        ("x starlette", "right"),
        ("x raw ASGI", "right"),
        ("x smallest", "right"),
        ("CPU %", "right"),
        ("loop busy %", "right"),
        ("peak RSS MB", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in sorted(results.scenarios, key=_order):
        rss = results.rss_mb.get((r.target, r.size))
        table.add_row(
            r.scenario,
            r.target,
            f"{r.size:,}",
            f"{r.load.rps:,.0f}",
            f"{r.load.p50_ms:.2f}",
            f"{r.load.p99_ms:.2f}",
            str(r.load.errors),
            _fmt(r.response_bytes, "{:,}"),
            _ratio(results, r, STARLETTE),
            _ratio(results, r, RAW),
            _fmt(results.scaling(r)),
            _fmt(None if r.server_cpu is None else 100 * r.server_cpu, "{:.0f}"),
            _fmt(None if r.loop_busy is None else 100 * r.loop_busy, "{:.0f}"),
            _fmt(rss, "{:.0f}"),
            style="dim" if r.target in BASELINES else None,
        )
    return table


def _ratio(results: Results, r: ScenarioResult, against: str) -> str:
    if r.target in BASELINES:
        return ""
    if results.generator_bound(r.scenario, r.size):
        return "bound"  # the generator was the bottleneck: see the notes
    return _fmt(results.ratio(r, against))


def import_table(results: Results) -> Table:
    table = Table(title="Import (mcpreg import, fresh database)")
    for name in (
        "backend",
        "size",
        "ok",
        "landed",
        "seconds",
        "releases/s",
        "CLI overhead s",
        "net releases/s",
    ):
        table.add_column(name, justify="left" if name in ("backend", "ok") else "right")
    for i in sorted(results.imports, key=lambda i: (i.size, i.backend)):
        table.add_row(
            i.backend,
            f"{i.size:,}",
            "yes" if i.ok else "NO",
            _fmt(i.landed, "{:,}"),
            f"{i.seconds:.2f}",
            f"{i.rate:,.0f}",
            _fmt(i.overhead_s),
            _fmt(i.net_rate, "{:,.0f}"),
        )
    return table


def _worst(values: list[float], pick: Callable[[list[float]], float]) -> float | None:
    return pick(values) if values else None


def targets(results: Results) -> list[tuple[str, str, str]]:
    """(target, worst measured value, met / missed / not measured) for each README target."""
    mcpreg = [r for r in results.scenarios if r.target not in BASELINES]

    def ratios(names: tuple[str, ...]) -> list[float]:
        return [x for r in mcpreg if r.scenario in names and (x := results.ratio(r)) is not None]

    sizes = sorted({r.size for r in mcpreg})
    scaling = [
        x
        for r in mcpreg
        if r.scenario in READS
        and len(sizes) > 1
        and r.size == sizes[-1]
        and (x := results.scaling(r)) is not None
    ]
    rss = [mb for (target, _), mb in results.rss_mb.items() if target not in BASELINES]
    import_sizes = [i.size for i in results.imports if i.ok] or [0]
    checks: list[tuple[str, float | None, Callable[[float], bool], str]] = [
        ("detail >= 0.6 x starlette", _worst(ratios(("detail",)), min), lambda v: v >= 0.6, "{:.2f}"),
        ("resolve >= 0.6 x starlette", _worst(ratios(("resolve",)), min), lambda v: v >= 0.6, "{:.2f}"),
        ("list >= 0.5 x starlette", _worst(ratios(("list",)), min), lambda v: v >= 0.5, "{:.2f}"),
        (
            "p99 < 25 ms (reads)",
            _worst([r.load.p99_ms for r in mcpreg if r.scenario in READS], max),
            lambda v: v < 25,
            "{:.1f} ms",
        ),
        (
            f"req/s at {sizes[-1]:,} >= 0.8 x at {sizes[0]:,}"
            if len(sizes) > 1
            else "req/s at 100k >= 0.8 x at 1k",
            _worst(scaling, min),
            lambda v: v >= 0.8,
            "{:.2f}",
        ),
        (
            "import >= 2,000 releases/s (largest size)",
            _worst([i.rate for i in results.imports if i.ok and i.size == max(import_sizes)], min),
            lambda v: v >= 2000,
            "{:,.0f}/s",
        ),
        ("peak RSS < 300 MB", _worst(rss, max), lambda v: v < 300, "{:.0f} MB"),
    ]
    out = []
    for label, value, ok, pattern in checks:
        if value is None:
            out.append((label, "-", "not measured"))
        else:
            out.append((label, pattern.format(value), "met" if ok(value) else "MISSED"))
    return out


def target_table(results: Results) -> Table:
    table = Table(title="Targets (worst case over the run; informational)")
    for name in ("target", "worst measured", "verdict"):
        table.add_column(name)
    for label, value, verdict in targets(results):
        table.add_row(label, value, verdict, style="red" if verdict == "MISSED" else None)
    return table


def show(console: Console, results: Results) -> None:
    console.rule("mcpreg benchmark")
    console.print(f"machine: {results.machine.one_line()}")
    for size, verdict in sorted(results.validation.items()):
        console.print(f"catalogue {size:,}: {verdict}")
    if results.imports:
        console.print(import_table(results))
    if results.scenarios:
        console.print(load_table(results))
    console.print(target_table(results))
    for note in bound_notes(results):
        console.print(f"[red]no ratios:[/] {note}", highlight=False)
    for note in contended_notes(results):
        console.print(f"[yellow]noisy:[/] {note}", highlight=False)
    for note in results.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def bound_notes(results: Results) -> list[str]:
    """One line per (scenario, size) whose ratios were refused because the generator limited it."""
    cells = sorted(
        {(r.size, r.scenario) for r in results.scenarios}, key=lambda c: (c[0], SCENARIOS.index(c[1]))
    )
    return [
        f"{scenario} at {size:,}: {why}"
        for size, scenario in cells
        if (why := results.generator_bound(scenario, size)) is not None
    ]


def contended_notes(results: Results) -> list[str]:
    """One line per (scenario, size) where a server was short of CPU (``Results.contended``)."""
    cells = sorted(
        {(r.size, r.scenario) for r in results.scenarios}, key=lambda c: (c[0], SCENARIOS.index(c[1]))
    )
    return [
        f"{scenario} at {size:,}: " + "; ".join(why)
        for size, scenario in cells
        if (why := results.contended(scenario, size))
    ]


def write_json(results: Results, path: Path) -> None:
    data = results.as_dict()
    data["generator_bound"] = bound_notes(results)
    data["contended"] = contended_notes(results)
    data["targets"] = [{"target": t, "worst": v, "verdict": s} for t, v, s in targets(results)]
    path.write_text(json.dumps(data, indent=2) + "\n")
