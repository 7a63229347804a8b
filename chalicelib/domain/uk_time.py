"""UK local wall-clock times (Europe/London) to UTC, with the two clock-change cases made explicit.

- The autumn hour that happens twice (e.g. 26/10/2025 01:30) is read as its FIRST occurrence, still
  on BST (UTC+1): `fold=0`, Python's own default. The caller is told it was ambiguous so a rule that
  cares (a bet struck "after the off") can look twice.
- The spring hour that never happens (e.g. 30/03/2025 01:30) is refused: the operator's clocks cannot
  produce it, so such a time means a broken file, not a bet to shift by an hour.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# dd/mm/yyyy HH:MM:SS as the operator writes it; single-digit day, month and hour are tolerated and
# the seconds may be left off.
UK_DATETIME = re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?")


class UtcTime(NamedTuple):
    utc: datetime
    ambiguous: bool  # the wall time fell in the repeated autumn hour (first occurrence taken)


def london_to_utc(local: datetime) -> UtcTime:
    """A naive Europe/London wall time as an aware UTC datetime. Raises ValueError for the missing spring hour."""
    if local.tzinfo is not None:
        raise ValueError("expected a naive local time")
    first = local.replace(tzinfo=LONDON, fold=0)
    second = local.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() != second.utcoffset():
        # zoneinfo gives the two folds different offsets both in the repeated hour and in the gap; only in
        # the gap does a round trip through UTC fail to give back the same wall time.
        back = first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
        if back != local:
            raise ValueError(
                f"{local:%d/%m/%Y %H:%M:%S} does not exist in UK time (the clocks went forward an hour then)"
            )
        return UtcTime(first.astimezone(UTC), True)
    return UtcTime(first.astimezone(UTC), False)


def parse_uk_datetime(text: str) -> UtcTime:
    """'01/05/2025 14:02:11' (UK local) → UTC. Raises ValueError naming what is wrong."""
    m = UK_DATETIME.fullmatch(text.strip())
    if not m:
        raise ValueError(f"date/time {text!r} is not dd/mm/yyyy HH:MM:SS")
    try:
        local = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]), int(m["S"] or 0))
    except ValueError as exc:
        raise ValueError(f"date/time {text!r} is not a real date and time ({exc})") from None
    return london_to_utc(local)
