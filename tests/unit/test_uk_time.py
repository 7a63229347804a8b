"""UK wall-clock times to UTC, across both clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.uk_time import london_to_utc, parse_uk_datetime


@pytest.mark.parametrize(
    ("text", "utc", "ambiguous"),
    [
        ("01/01/2025 14:02:11", datetime(2025, 1, 1, 14, 2, 11), False),  # GMT
        ("01/05/2025 14:02:11", datetime(2025, 5, 1, 13, 2, 11), False),  # BST
        ("30/03/2025 00:59:59", datetime(2025, 3, 30, 0, 59, 59), False),  # just before the spring change
        ("30/03/2025 02:00:00", datetime(2025, 3, 30, 1, 0, 0), False),  # just after it
        ("26/10/2025 00:59:59", datetime(2025, 10, 25, 23, 59, 59), False),
        ("26/10/2025 01:00:00", datetime(2025, 10, 26, 0, 0, 0), True),  # the repeated hour: BST reading
        ("26/10/2025 01:59:59", datetime(2025, 10, 26, 0, 59, 59), True),
        ("26/10/2025 02:00:00", datetime(2025, 10, 26, 2, 0, 0), False),
        ("1/5/2025 9:05", datetime(2025, 5, 1, 8, 5), False),  # single digits, no seconds
    ],
)
def test_uk_local_to_utc(text: str, utc: datetime, ambiguous: bool) -> None:
    got = parse_uk_datetime(text)
    assert got.utc == utc.replace(tzinfo=UTC)
    assert got.utc.tzinfo is UTC
    assert got.ambiguous is ambiguous


@pytest.mark.parametrize("text", ["30/03/2025 01:00:00", "30/03/2025 01:30:00", "29/03/2026 01:59:59"])
def test_the_missing_spring_hour_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="does not exist in UK time"):
        parse_uk_datetime(text)


@pytest.mark.parametrize("text", ["31/02/2025 10:00:00", "01/13/2025 10:00:00", "01/05/2025 24:00:00", "2025-05-01"])
def test_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="date/time"):
        parse_uk_datetime(text)


def test_aware_times_are_not_local_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        london_to_utc(datetime(2025, 5, 1, tzinfo=UTC))
