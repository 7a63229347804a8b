"""Streaming, measured: an import's memory does not grow with the file. Each test runs in a fresh
process and compares its peak RSS on a 1M-row file with that on a 10k-row one.

* The parser: a file generated on the fly, never written, decoded, split into rows and each row's
  fields converted.
* The whole job (services/imports.py): the file on disk, read from each chunk's byte offset a
  piece at a time as the ranged GET does; every row validated as a bet and handed to the recorder
  in lanes; the rejected rows written as error parts, the job advanced chunk by chunk through its
  queue messages, and the error CSV assembled from the parts as a stream. The recorder only counts
  the rows it is handed: recording 1M rows on the fakes would take most of an hour, and stores
  grow with what they store. `bench/bench_import_moto.py` prints the peak memory of a 100k-row
  import recorded on the embedded AWS."""

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


JOB = r"""
import json, os, resource, sys, tempfile
from pathlib import Path
from chalicelib.adapters.memory import MemoryImports, MemoryQueue
from chalicelib.domain.imports import ImportRequest, ImportStep
from chalicelib.services.imports import HistoryImports, ImportLimits
from local.history_gen import history_csv

class DiskFiles:  # objects as files: nothing of the source or the error CSV is held in memory
    def __init__(self, root): self.root = Path(root)
    def _path(self, bucket, key):
        p = self.root / bucket / key
        p.parent.mkdir(parents=True, exist_ok=True)
        return p
    def presign_post(self, bucket, key, *a): return {"url": "disk://", "fields": {"key": key}}
    def write(self, bucket, key, data): self._path(bucket, key).write_bytes(data)
    def read_optional(self, bucket, key):
        p = self._path(bucket, key)
        return p.read_bytes() if p.exists() else None
    def write_stream(self, bucket, key, chunks):
        with self._path(bucket, key).open("wb") as f:
            for c in chunks: f.write(c)
    def stream(self, bucket, key, start=0, piece=64 * 1024):
        with self._path(bucket, key).open("rb") as f:
            f.seek(start)
            while piece_ := f.read(piece): yield piece_

class CountingRecorder:  # the job counts what it is told was recorded
    def record(self, body, source, **kw): return None, True

n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    files, queue, recorder = DiskFiles(tmp), MemoryQueue(), CountingRecorder()
    jobs = HistoryImports(MemoryImports(), files, queue, recorder, ImportLimits("b", "imports/", 10**9, 60))
    job, _ = jobs.start(ImportRequest(filename="big.csv"), "test")
    files.write_stream("b", job.object_key, history_csv(n, bad_every=50))
    jobs.uploaded(job.object_key)
    messages = 0
    while queue.messages["imports"]:
        jobs.handle(ImportStep.model_validate_json(queue.messages["imports"].pop(0)))
        messages += 1
    done = jobs.get(job.import_id)
    error_lines = sum(piece.count(b"\n") for piece in files.stream("b", done.errors_key))
    print(json.dumps({"state": done.state.value, "rows": done.rows_read, "recorded": done.recorded,
                      "rejected": done.rejected, "error_lines": error_lines, "messages": messages,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def in_child(script: str, n: int) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", script, str(n)], cwd=ROOT, capture_output=True, text=True, check=True, timeout=1200
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def parse_in_child(n: int) -> dict[str, int]:
    return in_child(CHILD, n)


def test_a_million_rows_parse_in_the_memory_of_ten_thousand() -> None:
    small, big = parse_in_child(10_000), parse_in_child(1_000_000)
    assert (small["rows"], big["rows"]) == (10_000, 1_000_000)
    assert big["bad"] > 0 and big["bytes"] > 190_000_000  # the whole file went through: ~200 MB
    grown_mb = (big["maxrss_kb"] - small["maxrss_kb"]) / 1024
    assert grown_mb < 8, f"peak RSS grew by {grown_mb:.1f} MB from 10k to 1M rows: {small} {big}"


def test_a_million_row_import_job_runs_in_the_memory_of_ten_thousand() -> None:
    small, big = in_child(JOB, 10_000), in_child(JOB, 1_000_000)
    for run, n in ((small, 10_000), (big, 1_000_000)):
        assert run["state"] == "done" and run["rows"] == n
        assert run["rejected"] == n // 50 and run["recorded"] == n - n // 50  # 1 row in 50 is bad
        assert run["error_lines"] == run["rejected"] + 1  # the error CSV: a header, then each bad row
    assert big["messages"] > 1_000_000 // 2000  # a message per chunk of 2,000 rows, then the finalize
    grown_mb = (big["maxrss_kb"] - small["maxrss_kb"]) / 1024
    assert grown_mb < 16, f"peak RSS grew by {grown_mb:.1f} MB from 10k to 1M rows: {small} {big}"
