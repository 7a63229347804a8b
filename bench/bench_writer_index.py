"""Writer index at scale: a 100-slip batch linked against 100k writers on one core.

.venv/bin/python bench/bench_writer_index.py [--writers 100000] [--batch 100]

Prints the matrix memory, the snapshot size and load time, the time to link a batch (search,
decision, merge check and index update per slip, as the clustering consumer does), the time to
apply a batch of deltas, and a concurrency check: two containers link batches at once against
one store that accepts a write only if the writer's version is the one read (DynamoDB's
conditional write); the loser re-reads that writer and decides again, and after both have
applied the store's delta log their indexes equal the store: no lost update.
"""

from __future__ import annotations

# ruff: noqa: E402  (the thread limits must be set before numpy is imported)
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # one core, as a Lambda container with 1 vCPU

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.domain import writer_linking as wl
from chalicelib.domain.writer_index import WriterDelta, WriterIndex


class Conflict(Exception):
    pass


class Store:
    """The writer table as the index sees it: rows with a version, and an ordered delta log."""

    def __init__(self, versions: dict[str, int] | None = None) -> None:
        self.versions: dict[str, int] = dict(versions or {})  # every writer's current version
        self.rows: dict[str, wl.WriterState] = {}  # the rows written during the bench
        self.log: list[WriterDelta] = []

    def write(self, st: wl.WriterState) -> WriterDelta:
        if self.versions.get(st.writer_id, 0) != st.version - 1:  # ConditionExpression version = :read
            raise Conflict(st.writer_id)
        self.versions[st.writer_id] = st.version
        self.rows[st.writer_id] = st
        self.log.append(st.delta(len(self.log) + 1))
        return self.log[-1]


def gallery(n: int, dim: int, rng: np.random.Generator) -> WriterIndex:
    """n writers around random unit directions, with 1-20 slips each."""
    idx = WriterIndex(dim, capacity=n)
    centres = rng.normal(size=(n, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    counts = rng.integers(1, 21, n)
    for i in range(n):
        idx.upsert(f"w{i:06d}", centres[i] * 0.8, centres[i] * 0.8, int(counts[i]), 1)
    return idx


def link_one(
    emb: np.ndarray, idx: WriterIndex, store: Store, settings: wl.LinkSettings, new_id: itertools.count
) -> str:
    """One slip as the consumer links it: decide, write conditionally, apply; retry on a conflict."""
    for _ in range(3):
        d = wl.decide(emb, idx, settings)
        if d.action == "join" and d.writer_id is not None:
            held = store.rows.get(d.writer_id) or _state_of(idx, d.writer_id)
            st = wl.add_slip(held, emb, settings)
        else:
            st = wl.new_writer(f"n{next(new_id):06d}", emb)
        try:
            idx.apply([store.write(st)])
            wl.merge_check(st, idx, settings)  # the consumer's re-check of the writer it changed
            return d.action
        except Conflict:
            idx.apply([store.rows[st.writer_id].delta()])  # re-read the one writer, decide again
    raise RuntimeError("no progress")


def _state_of(idx: WriterIndex, writer_id: str) -> wl.WriterState:
    row = idx.row(writer_id)
    m = np.asarray(row.mean, np.float64)
    anchor = np.asarray(row.anchor, np.float64)
    return wl.WriterState(writer_id, m, anchor, row.n, min(row.n, 6), m[None, :], row.version)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--dim", type=int, default=wl.LinkSettings.load().dim or 48)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    settings = wl.LinkSettings.load()

    t = time.perf_counter()
    idx = gallery(args.writers, args.dim, rng)
    build = time.perf_counter() - t
    snap = idx.to_bytes()
    t = time.perf_counter()
    idx2 = WriterIndex.from_bytes(snap)
    load = time.perf_counter() - t
    assert len(idx2) == len(idx)
    print(f"writer index: {len(idx):,} writers x {args.dim} dims (mean + anchor, float32): "
          f"{idx.nbytes() / 2**20:.1f} MB in memory, snapshot {len(snap) / 2**20:.1f} MB, "
          f"load {load * 1000:.0f} ms (built in {build:.1f} s)")  # fmt: skip

    # A batch: half the slips by existing writers (noisy copies of their vectors), half new.
    ids = idx.writer_ids
    batch = []
    for i in range(args.batch):
        if i % 2 == 0:
            centre = np.asarray(idx.row(ids[int(rng.integers(len(ids)))]).mean, np.float64)
        else:
            centre = rng.normal(size=args.dim)
        v = centre / np.linalg.norm(centre) + rng.normal(0, 0.05, args.dim)
        batch.append(v / np.linalg.norm(v))
    versions = dict.fromkeys(ids, 1)
    times = []
    for r in range(args.repeats):
        work = WriterIndex.from_bytes(snap)
        counter = itertools.count()
        store = Store(versions)
        t = time.perf_counter()
        actions = [link_one(e, work, store, settings, counter) for e in batch]
        times.append(time.perf_counter() - t)
        if r == 0:
            joined = sum(a == "join" for a in actions)
            print(f"  batch outcome: {joined} joined, {actions.count('candidate')} candidates, "
                  f"{actions.count('new')} new")  # fmt: skip
    print(f"link a {args.batch}-slip batch against {len(idx):,} writers on one core: "
          f"median {np.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"({np.median(times) / args.batch * 1000:.2f} ms per slip; limit 1000 ms)")  # fmt: skip

    cached = WriterIndex.from_bytes(snap)
    t = time.perf_counter()
    changed = cached.apply(store.log)
    print(f"apply the batch's {len(store.log)} deltas to a cached index: {(time.perf_counter() - t) * 1000:.1f} ms "
          f"({changed} rows changed)")  # fmt: skip

    # Two containers, one store: interleaved batches that create and update writers at once.
    small = 2000
    base = WriterIndex(args.dim, capacity=small)
    shared = Store()
    for i in range(small):
        v = rng.normal(size=args.dim)
        st = wl.new_writer(f"s{i:05d}", v)
        base.apply([shared.write(st)])
    snap_small = base.to_bytes()
    a, b = WriterIndex.from_bytes(snap_small), WriterIndex.from_bytes(snap_small)
    ca, cb = itertools.count(0), itertools.count(10**5)
    same_person = np.asarray(base.row("s00007").mean, np.float64)
    writes_before = len(shared.log)
    for i in range(50):  # both containers see slips of writer s00007 (conflicting updates) and new people
        for idx_c, cnt in ((a, ca), (b, cb)):
            e = (
                same_person / np.linalg.norm(same_person) + rng.normal(0, 0.02, args.dim)
                if i % 5 == 0
                else rng.normal(size=args.dim)
            )
            link_one(e / np.linalg.norm(e), idx_c, shared, settings, cnt)
    for idx_c in (a, b):
        idx_c.apply(shared.log)  # each container catches up with the other's writes
    ok = all(
        a.row(w).version == b.row(w).version == shared.rows[w].version and a.row(w).n == shared.rows[w].n
        for w in shared.rows
    )
    print(f"concurrency: 2 containers, {len(shared.log) - writes_before} accepted writes, "
          f"writer s00007 has {shared.rows['s00007'].n} slips in the store; "
          f"indexes equal the store after the delta log: {ok}")  # fmt: skip
    assert ok and len(a) == len(b) == len(shared.rows)


if __name__ == "__main__":
    main()
