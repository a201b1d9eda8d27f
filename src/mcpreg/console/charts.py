"""Small line charts as inline SVG, drawn on the server: no script, no library, no network.

``line_chart`` draws one measure (the canary's and stable's error rate, or their p95
latency) over the analysis intervals, one line per track. Each line has its own marker
shape and dash as well as its colour (``MARKS``: the canary solid with circles, stable
dashed with squares), the legend names them in words, and the axis is labelled, so colour
is never the only cue. The SVG is an image (``role="img"``) whose title and description
say what it shows and the latest and highest values; the rollout panel also gives every
number in a table.

Pure: plain values in, ``Markup`` out (the numbers are formatted here, every text escaped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 12, 52
"""The drawing's size and the plot's margins (y labels left, x labels and legend below)."""
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Mark:
    """How one track is drawn: colour, dash pattern and marker shape."""

    colour: str
    dash: str | None
    shape: str  # "circle" or "square"


MARKS: dict[str, Mark] = {
    "canary": Mark("#a33c00", None, "circle"),
    "stable": Mark("#0b4f9c", "6 4", "square"),
}
"""Both colours have at least 4.5:1 contrast on white."""
INK = "#1a1a1a"
GRID = "#8a8a8a"


@dataclass(frozen=True)
class Line:
    """One track's values, one per interval (``None``: no traffic then, a gap in the line)."""

    track: str  # a key of MARKS
    name: str  # the legend's words, e.g. "canary 1.1.0"
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    key: str  # unique in the page: the prefix of the SVG's ids
    title: str  # e.g. "Error rate per interval"
    unit: str  # "%" or "ms"
    labels: tuple[str, ...]  # one per interval, under the x axis
    lines: tuple[Line, ...]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value`` (1 for 0)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power


def number(value: float, unit: str) -> str:
    """``4.5%``, ``0.25%``, ``120 ms``, ``7.5 ms``: short, without trailing zeros."""
    digits = 0 if unit == "ms" and value >= 10 else 2
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def _x(index: int, count: int) -> float:
    width = WIDTH - LEFT - RIGHT
    return LEFT + width / 2 if count == 1 else LEFT + index * width / (count - 1)


def _y(value: float, top: float) -> float:
    height = HEIGHT - TOP - BOTTOM
    return TOP + height * (1 - value / top)


def _f(value: float) -> str:
    return f"{value:.1f}"


def _marker(mark: Mark, x: float, y: float) -> str:
    if mark.shape == "circle":
        return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{mark.colour}"/>'
    return f'<rect x="{_f(x - 3.5)}" y="{_f(y - 3.5)}" width="7" height="7" fill="{mark.colour}"/>'


def _path(values: Sequence[float | None], top: float) -> str:
    """``M x y L x y ...``, a new ``M`` after each gap."""
    parts, drawing = [], False
    for index, value in enumerate(values):
        if value is None:
            drawing = False
            continue
        parts.append(f"{'L' if drawing else 'M'}{_f(_x(index, len(values)))} {_f(_y(value, top))}")
        drawing = True
    return " ".join(parts)


def summary(chart: Chart) -> str:
    """What the chart shows, in words (the SVG's description)."""
    said = []
    for line in chart.lines:
        seen = [v for v in line.values if v is not None]
        if not seen:
            said.append(f"{line.name}: no traffic in these intervals")
            continue
        last = next(v for v in reversed(line.values) if v is not None)
        said.append(
            f"{line.name}: {len(seen)} of {len(line.values)} intervals with traffic, "
            f"latest {number(last, chart.unit)}, highest {number(max(seen), chart.unit)}"
        )
    return f"{chart.title}, {len(chart.labels)} intervals. " + "; ".join(said) + "."


def _axes(chart: Chart, top: float) -> list[str]:
    bottom = HEIGHT - BOTTOM
    drawn = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="{INK}"/>',
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="{INK}"/>',
    ]
    for share in (0.0, 0.5, 1.0):
        y = _y(top * share, top)
        if share:
            drawn.append(
                f'<line x1="{LEFT}" y1="{_f(y)}" x2="{WIDTH - RIGHT}" y2="{_f(y)}" '
                f'stroke="{GRID}" stroke-width="0.5" stroke-dasharray="2 3"/>'
            )
        tick = escape(number(top * share, chart.unit))
        drawn.append(f'<text x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">{tick}</text>')
    count = len(chart.labels)
    every = max(1, math.ceil(count / MAX_X_LABELS))
    for index, label in enumerate(chart.labels):
        if index % every == 0 or index == count - 1:
            x = _f(_x(index, count))
            drawn.append(f'<text x="{x}" y="{bottom + 15}" text-anchor="middle">{escape(label)}</text>')
    return drawn


def _legend(chart: Chart) -> list[str]:
    drawn, x, y = [], float(LEFT), HEIGHT - 12
    for line in chart.lines:
        mark = MARKS[line.track]
        dash = f' stroke-dasharray="{mark.dash}"' if mark.dash else ""
        drawn.append(
            f'<line x1="{_f(x)}" y1="{y - 4}" x2="{_f(x + 24)}" y2="{y - 4}" '
            f'stroke="{mark.colour}" stroke-width="2"{dash}/>'
        )
        drawn.append(_marker(mark, x + 12, y - 4))
        drawn.append(f'<text x="{_f(x + 30)}" y="{y}">{escape(line.name)}</text>')
        x += 40 + 7 * len(line.name)
    return drawn


def line_chart(chart: Chart) -> Markup:
    """The chart as one ``<svg>`` element, sized by its viewBox (CSS sets its width)."""
    seen = [v for line in chart.lines for v in line.values if v is not None]
    top = nice_ceiling(max(seen, default=0.0) * 1.05)
    title, desc = f"{chart.key}-title", f"{chart.key}-desc"
    body = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title} {desc}" font-size="11" fill="{INK}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title}">{escape(chart.title)} ({escape(chart.unit)})</title>',
        f'<desc id="{desc}">{escape(summary(chart))}</desc>',
        *_axes(chart, top),
    ]
    for line in chart.lines:
        mark = MARKS[line.track]
        dash = f' stroke-dasharray="{mark.dash}"' if mark.dash else ""
        path = _path(line.values, top)
        if path:
            body.append(
                f'<path class="line {line.track}" d="{path}" fill="none" '
                f'stroke="{mark.colour}" stroke-width="2"{dash}/>'
            )
        body.extend(
            _marker(mark, _x(i, len(line.values)), _y(v, top))
            for i, v in enumerate(line.values)
            if v is not None
        )
    body.extend(_legend(chart))
    body.append("</svg>")
    return Markup("".join(body))
