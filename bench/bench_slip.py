"""Slip function latency: model load, then embed_slip p50/p99 on generated slips (and real ones).

.venv/bin/python bench/bench_slip.py [--n 40] [--path ../shared/data/betfred-slips]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions.slip_scoring import embedder
from functions.slip_scoring.pipeline import embed_slip
from local.slipgen import make_slip


def timed(slips: list[bytes]) -> str:
    times = []
    for data in slips:
        t = time.perf_counter()
        embed_slip(data)
        times.append((time.perf_counter() - t) * 1000)
    return f"p50 {np.percentile(times, 50):.1f} ms  p99 {np.percentile(times, 99):.1f} ms  ({len(times)} slips)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--path", type=Path, default=None, help="folder of real slips (writerN/*.jpg)")
    args = ap.parse_args()
    t = time.perf_counter()
    embedder.session()
    print(f"model load {(time.perf_counter() - t) * 1000:.1f} ms")
    print("generated slips:", timed([make_slip(writer_seed=i % 8, slip_seed=i) for i in range(args.n)]))
    if args.path:
        print("real slips:     ", timed([p.read_bytes() for p in sorted(args.path.glob("*/*.jpg"))]))


if __name__ == "__main__":
    main()
