"""The SVG line charts of the rollout panel, without a browser: well-formed SVG, an image
with a title and a description in words, each track drawn with its own dash and marker
shape (colour is never the only cue), gaps where a track had no traffic, a labelled axis
on a round ceiling, and every text escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpreg.console.charts import MARKS, Chart, Line, line_chart, nice_ceiling, number

SVG = "{http://www.w3.org/2000/svg}"


def chart(
    canary: tuple[float | None, ...], stable: tuple[float | None, ...], name: str = "canary 1.1.0"
) -> Chart:
    labels = tuple(f"#{i + 1}" for i in range(len(canary)))
    lines = (
        Line("canary", name, canary),
        Line("stable", "stable 1.0.0", stable),
    )
    return Chart("chart-errors", "Error rate per interval", "%", labels, lines)


def drawn(c: Chart) -> ET.Element:
    return ET.fromstring(str(line_chart(c)))


def test_the_chart_is_an_image_named_by_its_title_and_described_in_words() -> None:
    svg = drawn(chart((0.0, 33.3, 0.0), (0.0, 0.0, 0.5)))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-errors-title chart-errors-desc"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "chart-errors-title"
    assert title.text == "Error rate per interval (%)"
    assert desc is not None and desc.text == (
        "Error rate per interval, 3 intervals. "
        "canary 1.1.0: 3 of 3 intervals with traffic, latest 0%, highest 33.3%; "
        "stable 1.0.0: 3 of 3 intervals with traffic, latest 0.5%, highest 0.5%."
    )


def test_each_track_has_its_own_dash_and_marker_shape_not_only_its_colour() -> None:
    svg = drawn(chart((1.0, 2.0), (0.5, 0.5)))
    paths = {p.get("class"): p for p in svg.iter(f"{SVG}path")}
    assert paths["line canary"].get("stroke-dasharray") is None
    assert paths["line stable"].get("stroke-dasharray") == MARKS["stable"].dash
    assert len([c for c in svg.iter(f"{SVG}circle")]) == 2 + 1  # two points and the legend's
    assert len([r for r in svg.iter(f"{SVG}rect")]) == 2 + 1
    legend = [t.text for t in svg.iter(f"{SVG}text")]
    assert "canary 1.1.0" in legend and "stable 1.0.0" in legend


def test_an_interval_without_traffic_is_a_gap_in_the_line() -> None:
    svg = drawn(chart((1.0, None, 2.0, 3.0), (None, None, None, None)))
    paths = {p.get("class"): p.get("d") or "" for p in svg.iter(f"{SVG}path")}
    assert paths["line canary"].count("M") == 2 and paths["line canary"].count("L") == 1
    assert "line stable" not in paths  # nothing to draw
    desc = svg.find(f"{SVG}desc")
    assert desc is not None and "stable 1.0.0: no traffic in these intervals" in (desc.text or "")


def test_the_axis_runs_from_zero_to_a_round_ceiling_above_the_highest_value() -> None:
    svg = drawn(chart((3.2, 4.1), (0.1, 0.2)))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0%", "2.5%", "5%"]
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert labels == ["#1", "#2"]
    empty = drawn(chart((None,), (None,)))
    assert [t.text for t in empty.iter(f"{SVG}text") if t.get("text-anchor") == "end"] == ["0%", "0.5%", "1%"]


def test_many_intervals_label_every_few_and_the_last() -> None:
    values = tuple(float(i) for i in range(30))
    labels = [
        t.text for t in drawn(chart(values, values)).iter(f"{SVG}text") if t.get("text-anchor") == "middle"
    ]
    assert len(labels) <= 13 and labels[0] == "#1" and labels[-1] == "#30"


def test_every_text_is_escaped() -> None:
    svg = str(line_chart(chart((1.0,), (1.0,), name='canary <script>"x"</script>')))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)  # still well-formed


def test_numbers_are_short() -> None:
    assert [number(v, "%") for v in (0.0, 4.5, 33.3333, 0.25, 100.0)] == [
        "0%",
        "4.5%",
        "33.33%",
        "0.25%",
        "100%",
    ]
    assert [number(v, "ms") for v in (9.75, 120.4, 0.0)] == ["9.75 ms", "120 ms", "0 ms"]


@settings(max_examples=50)
@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_the_ceiling_is_round_and_at_most_two_and_a_half_times_the_value(value: float) -> None:
    top = nice_ceiling(value)
    assert value <= top * (1 + 1e-9) and top <= 2.5 * value * (1 + 1e-9)
    mantissa = top / 10 ** math.floor(math.log10(top) + 1e-12)
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5))
