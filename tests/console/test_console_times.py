"""How the console writes a time: relative text, the UTC instant in ``<time>`` and its title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mcpreg.console.templating import relative, time_tag

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(hours=3, minutes=59), "3 hours ago"),
        (timedelta(days=17), "17 days ago"),
        (timedelta(days=45), "1 month ago"),
        (timedelta(days=800), "2 years ago"),
        (-timedelta(hours=2), "in 2 hours"),
        (-timedelta(seconds=10), "in a moment"),
    ],
)
def test_a_time_is_said_relative_to_now(delta: timedelta, said: str) -> None:
    assert relative(NOW - delta, NOW) == said


def test_a_naive_time_is_read_as_utc() -> None:
    assert relative(datetime(2026, 11, 14, 10, 0), NOW) == "17 days ago"


def test_the_time_tag_carries_the_utc_instant_and_takes_focus() -> None:
    tag = str(time_tag(datetime(2026, 11, 14, 9, 30, 5, tzinfo=UTC), NOW))
    assert tag == (
        '<time datetime="2026-11-14T09:30:05Z" title="2026-11-14 09:30:05 UTC" tabindex="0" '
        'data-utc="2026-11-14 09:30:05 UTC">17 days ago</time>'
    )
    assert str(time_tag(None)) == "<span>never</span>"
