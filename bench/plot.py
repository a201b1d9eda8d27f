"""``throughput.png``: requests/s against catalogue size, one line per scenario and target.

The Starlette baseline is dotted, the raw ASGI baseline dash-dotted."""

from __future__ import annotations

from pathlib import Path

from bench.results import BASELINES, RAW, SCENARIOS, STARLETTE, Results

STYLES = {"sqlite": "-", "postgresql": "--", STARLETTE: ":", RAW: "-."}
MARKERS = {"sqlite": "o", "postgresql": "s", STARLETTE: "^", RAW: "v"}


def throughput(results: Results, path: Path) -> Path | None:
    """Draw the plot with the Agg backend; None when there is nothing to draw."""
    if not results.scenarios:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    series = sorted(
        {(r.scenario, r.target) for r in results.scenarios}, key=lambda k: (SCENARIOS.index(k[0]), k[1])
    )
    for scenario, target in series:
        points = sorted(
            (r.size, r.load.rps) for r in results.scenarios if (r.scenario, r.target) == (scenario, target)
        )
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            linestyle=STYLES.get(target, "-"),
            marker=MARKERS.get(target, "o"),
            color=colours[SCENARIOS.index(scenario) % len(colours)],
            label=f"{scenario} / {target}",
            alpha=0.6 if target in BASELINES else 1.0,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("catalogue size (releases)")
    ax.set_ylabel("requests/s (publish: publishes/s)")
    ax.set_title(
        f"mcpreg throughput vs catalogue size ({results.machine.nproc} CPU, {results.machine.cpu_model})"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
