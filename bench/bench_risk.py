"""Latency of the bet risk scorer: session load, feature build, model, whole assessment.

    .venv/bin/python bench/bench_risk.py [--bets 2000] [--seed 11]

Bets come from simulator B (numpy + pydantic only; no sklearn is imported), so the mix of bet
types, prices and history lengths is realistic; a second run scores bets against a full history
of 500 past bets (the cap the history Query reads). Timings are wall clock on this machine.
``assess`` does no I/O: the only DynamoDB read on the bet path is the caller's one history Query.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.domain.risk_history import MAX_PAST_BETS, SubjectHistory
from chalicelib.risk import scorer
from chalicelib.risk.features import past_bet, summarise, vectorize
from training.risk.simulate_b import simulate


def _pct(xs: np.ndarray) -> str:
    ms = xs * 1000
    return f"p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms, max {ms.max():.3f} ms"


def _time(fn: object, rows: list[tuple[object, SubjectHistory]]) -> np.ndarray:
    f = fn  # type: ignore[assignment]
    for bet, hist in rows[:50]:  # warm-up
        f(bet, hist)  # type: ignore[operator]
    out = np.empty(len(rows))
    for i, (bet, hist) in enumerate(rows):
        t = time.perf_counter()
        f(bet, hist)  # type: ignore[operator]
        out[i] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bets", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    sims = simulate(args.seed, n_customers=max(40, args.bets // 25))
    step = max(1, len(sims) // args.bets)
    rows = [(s.bet, s.history) for s in sims[::step]][: args.bets]
    t0 = time.perf_counter()
    m = scorer.load()
    load_ms = (time.perf_counter() - t0) * 1000

    # a full history: 500 past bets in the 30 days before each bet
    base = sims[len(sims) // 2].bet
    full = [
        past_bet(base.model_copy(update={"placed_at": base.placed_at - timedelta(minutes=80 * (i + 1))}), f"p{i}")
        for i in reversed(range(MAX_PAST_BETS))
    ]
    hist500 = SubjectHistory(bets=full)
    rows500 = [(bet, hist500) for bet, _ in rows[:500]]

    def features(bet: object, hist: SubjectHistory) -> None:
        s = summarise(bet, hist)  # type: ignore[arg-type]
        seg = m.segments.assign(s)
        vectorize(bet, hist, segment_stats=m.segments.stats(seg), summary=s)  # type: ignore[arg-type]

    x = np.stack([scorer.score(b, h).x for b, h in rows])  # type: ignore[arg-type]
    lat_model = np.empty(len(x))
    for i in range(len(x)):
        t = time.perf_counter()
        m.raw(x[i : i + 1])
        lat_model[i] = time.perf_counter() - t

    levels = [scorer.assess(b, h).level for b, h in rows]  # type: ignore[arg-type]
    n_hist = np.array([len(h.bets) for _, h in rows])
    print(f"model {m.version}; session load {load_ms:.1f} ms")
    print(
        f"{len(rows)} simulator-B bets, history length median {np.median(n_hist):.0f}, max {n_hist.max()}; "
        f"{sum(lv != 'low' for lv in levels)} at >= medium (these also compute reasons)"
    )
    print(f"feature build:               {_pct(_time(features, rows))}")  # type: ignore[arg-type]
    print(f"model (one ONNX row):        {_pct(lat_model)}")
    print(f"assess (whole assessment):   {_pct(_time(scorer.assess, rows))}")  # type: ignore[arg-type]
    print(f"feature build, 500 past bets: {_pct(_time(features, rows500))}")  # type: ignore[arg-type]
    print(f"assess, 500 past bets:        {_pct(_time(scorer.assess, rows500))}")  # type: ignore[arg-type]
    print(f"DynamoDB/boto3 calls inside assess: 0 (boto3 imported: {'boto3' in sys.modules})")


if __name__ == "__main__":
    main()
