"""Slip function latency on one core: model load, then embed_slip p50/p99 on generated slips and,
given a folder, on real scans; and the process's peak memory.

.venv/bin/python bench/bench_slip.py [--n 40] [--path ../shared/data/betfred-slips]
"""

from __future__ import annotations

# ruff: noqa: E402  (the thread limits must be set before numpy is imported)
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # one core, as the Lambda function is measured

import argparse
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions.slip_scoring import embedder
from functions.slip_scoring.pipeline import embed_slip
from local.slipgen import make_slip

LIMIT_MS = 300


def timed(slips: list[bytes]) -> str:
    times = []
    for data in slips:
        t = time.perf_counter()
        embed_slip(data)
        times.append((time.perf_counter() - t) * 1000)
    p50 = float(np.percentile(times, 50))
    verdict = "ok" if p50 <= LIMIT_MS else "OVER"
    p99 = float(np.percentile(times, 99))
    return f"p50 {p50:.1f} ms  p99 {p99:.1f} ms  ({len(times)} slips; limit p50 {LIMIT_MS} ms: {verdict})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--path", type=Path, default=None, help="folder of real slips (writerN/*.jpg)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    t = time.perf_counter()
    embedder.session()
    print(f"model load {(time.perf_counter() - t) * 1000:.1f} ms")
    print("generated slips:", timed([make_slip(writer_seed=i % 8, slip_seed=i) for i in range(args.n)]))
    if args.path:
        files = sorted(p for p in args.path.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        print("real slips:     ", timed([p.read_bytes() for p in files]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB (limit 1024 MB)")


if __name__ == "__main__":
    main()
