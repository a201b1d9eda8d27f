"""RFC 3339 timestamps: the one way the registry writes a time, and the one way it reads one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.timestamps import read_rfc3339, rfc3339


def test_utc_is_written_with_a_z_and_microseconds_are_kept() -> None:
    assert rfc3339(datetime(2025, 8, 7, 13, 15, 4, 280000, tzinfo=UTC)) == "2025-08-07T13:15:04.280000Z"
    assert rfc3339(datetime(2025, 8, 7, 13, 15, 4, tzinfo=UTC)) == "2025-08-07T13:15:04Z"


def test_no_time_is_written_as_none() -> None:
    assert rfc3339(None) is None


def test_an_offset_other_than_utc_is_written_as_given() -> None:
    assert rfc3339(datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=-1)))) == "2030-01-01T00:00:00-01:00"


def test_z_reads_as_utc_and_text_that_is_no_time_reads_as_none() -> None:
    assert read_rfc3339("2025-08-07T13:15:04Z") == datetime(2025, 8, 7, 13, 15, 4, tzinfo=UTC)
    assert read_rfc3339("2025-13-01T00:00:00Z") is None
    assert read_rfc3339("yesterday") is None


@given(st.datetimes(timezones=st.just(UTC)))
def test_what_is_written_reads_back_as_the_same_moment(moment: datetime) -> None:
    assert read_rfc3339(rfc3339(moment)) == moment
