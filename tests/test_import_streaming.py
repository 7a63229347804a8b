"""Streaming, measured: the history CSV parser's memory does not grow with the file. A 1M-row file
(generated on the fly, never written) is parsed — decoded, split into rows and each row's fields
converted, as each import chunk does — in a fresh process, and its peak RSS is compared with a
10k-row file's. Recording is left out here: at ~1-3 ms a row on the fakes 1M rows would take most
of an hour, and the in-memory stores themselves grow with what is stored; the chunked job around
the parser is bounded by rows_per_chunk (tests/unit/test_imports.py) and `bench/bench_import.py`
prints the peak memory of a 100k-row import with recording."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys
from chalicelib.domain.history_csv import CountingLines, HistoryCsvReader
from local.history_gen import history_csv
n = int(sys.argv[1])
lines = CountingLines(history_csv(n, bad_every=50))
rows = bad = 0
for r in HistoryCsvReader(lines):
    rows += 1
    bad += r.error is not None
print(json.dumps({"rows": rows, "bad": bad, "bytes": lines.bytes,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def parse_in_child(n: int) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n)], cwd=ROOT, capture_output=True, text=True, check=True, timeout=900
    )
    return dict(json.loads(out.stdout))


def test_a_million_rows_parse_in_the_memory_of_ten_thousand() -> None:
    small, big = parse_in_child(10_000), parse_in_child(1_000_000)
    assert (small["rows"], big["rows"]) == (10_000, 1_000_000)
    assert big["bad"] > 0 and big["bytes"] > 190_000_000  # the whole file went through: ~200 MB
    grown_mb = (big["maxrss_kb"] - small["maxrss_kb"]) / 1024
    assert grown_mb < 8, f"peak RSS grew by {grown_mb:.1f} MB from 10k to 1M rows: {small} {big}"
