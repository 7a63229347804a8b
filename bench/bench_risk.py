"""Latency of the bet risk scorer: session load time, then p50/p99 of ``scorer.assess``.

    .venv/bin/python bench/bench_risk.py [--bets 2000] [--seed 11]

Bets come from the training simulator (numpy + pydantic only; no sklearn is imported), so the
mix of bet types, prices and histories is realistic. Timings are wall clock on this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.risk import scorer
from training.risk.simulate import simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bets", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    sims = simulate(args.seed, n_customers=max(20, args.bets // 25))[: args.bets]
    t0 = time.perf_counter()
    scorer.load()
    load_ms = (time.perf_counter() - t0) * 1000

    for s in sims[:50]:  # warm-up
        scorer.assess(s.bet, s.history)
    lat = np.empty(len(sims))
    for i, s in enumerate(sims):
        t = time.perf_counter()
        scorer.assess(s.bet, s.history)
        lat[i] = time.perf_counter() - t
    lat_ms = lat * 1000
    print(f"model {scorer.metadata()['model_version']}")
    print(f"session load: {load_ms:.1f} ms")
    print(
        f"assess over {len(sims)} bets: p50 {np.percentile(lat_ms, 50):.3f} ms, "
        f"p99 {np.percentile(lat_ms, 99):.3f} ms, max {lat_ms.max():.3f} ms"
    )


if __name__ == "__main__":
    main()
