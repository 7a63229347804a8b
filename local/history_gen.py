"""Generated history CSVs for imports (tests, the bench, trying `make import`): streamed, never
held in memory.

    python -m local.history_gen 100000 > /tmp/history.csv        # 100k rows, 1 in 50 bad
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

HEADER = "bet_id,customer_id,shop_id,channel,stake,currency,bet_type,sport,placed_at,selections,note\r\n"
START = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # a fixed instant in the past
RUNNERS = ("Sea Bird", "Blue Moon", "Red Sky", "Kauto Star", "Late Show")
COURSES = ("Ascot", "York", "Kempton", "Newbury", "Sandown")
BAD = (
    ("stake", "-5.00"),
    ("placed_at", "yesterday"),
    ("selections", '[{"event": "14:30 Ascot"'),
    ("bet_type", "double"),
)


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


@lru_cache(maxsize=4096)
def _selections(i: int) -> str:
    course = COURSES[i % len(COURSES)]
    event = f"{12 + i % 8}:{(i * 5) % 60:02d} {course}"
    sel = [{"event": event, "market": "win", "selection": RUNNERS[i % len(RUNNERS)], "price": f"{2 + i % 9}.5"}]
    return _cell(json.dumps(sel))


def row(i: int, start: datetime = START, step_s: int = 37, customers: int = 500, stake: str = "10.00",
        bad_every: int = 0, prefix: str = "H", customer_prefix: str = "C") -> str:  # fmt: skip
    placed = (start + timedelta(seconds=i * step_s)).isoformat()
    customer = f"{customer_prefix}{i % customers:05d}"
    sel = _selections(i % 360)  # 360 = the period of course, hour, minute and price together
    if bad_every and i % bad_every == bad_every - 1:
        cells = {
            "bet_id": f"{prefix}-{i:08d}", "customer_id": customer, "shop_id": "", "channel": "online",
            "stake": stake, "currency": "GBP", "bet_type": "single", "sport": "horse_racing", "placed_at": placed,
            "selections": sel, "note": "imported",
        }  # fmt: skip
        column, value = BAD[(i // bad_every) % len(BAD)]
        cells[column] = _cell(value)
        return ",".join(cells.values()) + "\r\n"
    return f"{prefix}-{i:08d},{customer},,online,{stake},GBP,single,horse_racing,{placed},{sel},imported\r\n"


def history_csv(n: int, *, piece: int = 64 * 1024, **kw: object) -> Iterator[bytes]:
    """The CSV (header + n rows) as pieces of about `piece` bytes."""
    buf = [HEADER]
    size = len(HEADER)
    for i in range(n):
        line = row(i, **kw)  # type: ignore[arg-type]
        buf.append(line)
        size += len(line)
        if size >= piece:
            yield "".join(buf).encode()
            buf, size = [], 0
    if buf:
        yield "".join(buf).encode()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for piece in history_csv(n, bad_every=50):
        sys.stdout.buffer.write(piece)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
