"""Throughput of a history import: rows/s and memory for a generated CSV (default 100k rows).

    .venv/bin/python bench/bench_import.py [--rows 100000] [--chunk 2000] [--scorer onnx|fixed]

Runs on the in-memory fakes (wiring.in_memory: no moto, no network), through the real job:
the CSV (local/history_gen.py, 500 customers, 1 row in 50 bad) is put in the fake bucket, the
upload's notification starts the job and each queue message is one chunk — streamed from its byte
offset, every good row recorded through BetRecorder (history Query, risk score, the bet's
transaction), rejected rows to the error CSV part — then the error CSV is written.

Memory: peak RSS of the process (which includes the fakes' stores: every bet recorded stays in
them, as it would in DynamoDB), and the peak of one chunk's own allocations (tracemalloc, traced
for one chunk near the end only, since tracing slows everything down): what a Lambda
invocation needs beyond its baseline, whatever the file's size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.adapters.risk_model import OnnxRiskScorer
from chalicelib.core import config
from chalicelib.domain.imports import ImportRequest, ImportStep
from local.history_gen import history_csv


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--scorer", choices=("onnx", "fixed"), default="onnx")
    args = ap.parse_args()

    scorer = OnnxRiskScorer() if args.scorer == "onnx" else memory.FixedScorer()
    scorer.ready()
    c = wiring.in_memory(config.from_env({}), scorer=scorer)
    c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), "rows_per_chunk": args.chunk})
    files, queue = c.adapters.files, c.adapters.queue
    assert isinstance(files, memory.MemoryFiles) and isinstance(queue, memory.MemoryQueue)
    data = b"".join(history_csv(args.rows, bad_every=50))
    job, _ = c.imports.start(ImportRequest(filename="bench.csv"), "bench")
    files.write(c.imports.limits.bucket, job.object_key, data)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    chunks = -(-args.rows // args.chunk)
    traced_chunk = max(0, chunks - 2)
    chunk_peak = 0
    started = time.perf_counter()
    c.imports.uploaded(job.object_key)
    n = 0
    while queue.messages["imports"]:
        msg = ImportStep.model_validate_json(queue.messages["imports"].pop(0))
        if n == traced_chunk:
            tracemalloc.start()
            c.imports.handle(msg)
            chunk_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            c.imports.handle(msg)
        n += 1
        if n % 10 == 0:
            print(f"  {n} messages, {c.imports.get(job.import_id).rows_read:,} rows", file=sys.stderr)
    elapsed = time.perf_counter() - started
    done = c.imports.get(job.import_id)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"history import, in-memory fakes, scorer={args.scorer}, {args.rows:,} rows in chunks of {args.chunk:,}:")
    print(f"  {done.state.value}: read {done.rows_read:,}, recorded {done.recorded:,}, rejected {done.rejected:,}")
    print(f"  {elapsed:.1f} s, {done.rows_read / elapsed:,.0f} rows/s (tracing one chunk of {chunks} included)")
    print(f"  file {len(data) / 1e6:.1f} MB; peak RSS {rss / 1024:.0f} MB ({rss0 / 1024:.0f} MB before the job)")
    print(f"  one chunk's peak allocations (tracemalloc, chunk {traced_chunk}): {chunk_peak / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
