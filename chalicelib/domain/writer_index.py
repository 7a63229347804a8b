"""In-memory writer index: one float32 matrix of writer vectors, versioned, with deltas (numpy only).

The clustering consumer matches a batch of slip embeddings against every known writer. Reading
all writers from one DynamoDB partition per batch does not scale (100k writers x 2 vectors x D
floats is tens of MB per batch, and one hot key), so the index is built to be *cached per
container* and brought up to date by small deltas:

* each writer is a row: ``mean`` (average of its slips' unit embeddings: ``e @ mean`` is exactly
  the average-linkage similarity of ``e`` to all of the writer's slips) and ``anchor`` (the same
  over its first slips only, frozen once full, so later slips cannot drag the writer away from
  who it was when founded), plus ``n`` and the writer's ``version``;
* every change is a :class:`WriterDelta` carrying the writer's new version and a global ``seq``
  (e.g. an atomic counter, or the delta's sort key in a per-shard log); :meth:`WriterIndex.apply`
  is idempotent and order-tolerant (a row only moves forward in ``version``), so two containers
  that created writers concurrently converge once each has applied the other's deltas;
* :meth:`WriterIndex.to_bytes` / :meth:`WriterIndex.from_bytes` give a snapshot (e.g. an S3
  object named by its ``seq``) that a cold container loads, then applies deltas after ``seq``.

Suggested storage (the lead's adapter): one item per writer under its own partition key
(``pk = WRITER#<id>``: no hot key) holding the :class:`~chalicelib.domain.writer_linking.WriterState`
item and ``version``; every accepted write also puts a delta item in a small log partitioned by
time bucket and shard (``pk = WDELTA#<yyyymmddhh>#<shard>``, ``sk = <seq or timestamp#writer>``)
with a TTL; a snapshot object in S3 is rewritten now and then with its ``seq``. A container
loads the snapshot once, then per batch queries the delta buckets since its ``seq`` (a few items),
so a batch reads kilobytes, not every centroid.

No lost update: the *store* decides (a conditional write on the writer's ``version``: create with
``attribute_not_exists``, update with ``version = :expected``); the index only mirrors accepted
writes. A container that loses the race re-reads that one writer (``upsert`` of the stored row)
and decides again. :meth:`WriterIndex.search` is a single matrix product: a 100-slip batch
against 100k writers of 64 dims is ~0.6 GFLOP (well under a second on one core, see
``bench/bench_writer_index.py``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_MAGIC = "betwatch-writer-index-v1"


@dataclass(frozen=True)
class WriterDelta:
    """One accepted write of a writer row (what a container applies to its cached index)."""

    writer_id: str
    mean: Sequence[float] | np.ndarray
    anchor: Sequence[float] | np.ndarray
    n: int
    version: int
    seq: int = 0


@dataclass(frozen=True)
class SearchResult:
    """Top-k writers for one query, best first, and slip-weighted totals over *all* writers, from
    which a caller takes the statistics of the rest of the gallery (totals minus the rows it
    excludes, all of which are in the top k)."""

    writer_ids: tuple[str, ...]
    scores: np.ndarray  # average-linkage similarity to each writer's mean, best first
    anchor_scores: np.ndarray  # the same against each writer's anchor
    n: np.ndarray  # slips per writer
    total_writers: int  # writers in the gallery (how many comparisons the best won)
    total_n: int  # slips in the gallery
    total_ns: float  # sum over writers of n * score
    total_ns2: float  # sum over writers of n * score**2


class WriterIndex:
    """Writer rows in preallocated float32 matrices (capacity doubles as writers are added)."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = int(dim)
        cap = max(1, int(capacity))
        self._mean = np.zeros((cap, self.dim), np.float32)
        self._anchor = np.zeros((cap, self.dim), np.float32)
        self._n = np.zeros(cap, np.int32)
        self._version = np.zeros(cap, np.int64)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._removed: dict[str, int] = {}  # writer -> version of its removal (merged away)
        self.seq = 0  # highest delta seq applied (snapshot + deltas)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, writer_id: object) -> bool:
        return writer_id in self._row

    @property
    def writer_ids(self) -> list[str]:
        return list(self._ids)

    def version(self, writer_id: str) -> int:
        return int(self._version[self._row[writer_id]])

    def row(self, writer_id: str) -> WriterDelta:
        i = self._row[writer_id]
        return WriterDelta(
            writer_id, self._mean[i].copy(), self._anchor[i].copy(), int(self._n[i]), int(self._version[i])
        )

    def nbytes(self) -> int:
        return int(self._mean.nbytes + self._anchor.nbytes + self._n.nbytes + self._version.nbytes)

    def _grow(self) -> None:
        cap = 2 * len(self._mean)
        for name in ("_mean", "_anchor"):
            old = getattr(self, name)
            new = np.zeros((cap, self.dim), np.float32)
            new[: len(old)] = old
            setattr(self, name, new)
        for name, dt in (("_n", np.int32), ("_version", np.int64)):
            old_1d = getattr(self, name)
            new_1d = np.zeros(cap, dt)
            new_1d[: len(old_1d)] = old_1d
            setattr(self, name, new_1d)

    def upsert(
        self,
        writer_id: str,
        mean: Sequence[float] | np.ndarray,
        anchor: Sequence[float] | np.ndarray,
        n: int,
        version: int,
    ) -> bool:
        """Set a writer's row if ``version`` is newer than the one held; True when applied.
        ``n == 0`` is a removal (the writer was merged into another)."""
        if version <= self._removed.get(writer_id, 0):
            return False
        if n <= 0:
            return self.remove(writer_id, version)
        m = np.asarray(mean, np.float32).ravel()
        a = np.asarray(anchor, np.float32).ravel()
        if m.shape != (self.dim,) or a.shape != (self.dim,):
            raise ValueError(f"writer vectors must have {self.dim} values")
        i = self._row.get(writer_id)
        if i is None:
            if len(self._ids) == len(self._mean):
                self._grow()
            i = len(self._ids)
            self._ids.append(writer_id)
            self._row[writer_id] = i
        elif version <= self._version[i]:
            return False  # a replay or an older write: the row already moved past it
        self._mean[i], self._anchor[i], self._n[i], self._version[i] = m, a, int(n), int(version)
        return True

    def remove(self, writer_id: str, version: int | None = None) -> bool:
        """Drop a writer's row (moving the last row into its place); remembers the version so an
        older delta cannot bring it back."""
        i = self._row.get(writer_id)
        v = int(version) if version is not None else (int(self._version[i]) + 1 if i is not None else 1)
        if v <= self._removed.get(writer_id, 0) or (i is not None and v <= self._version[i]):
            return False
        self._removed[writer_id] = v
        if i is None:
            return True
        last = len(self._ids) - 1
        if i != last:
            moved = self._ids[last]
            for arr in (self._mean, self._anchor, self._n, self._version):
                arr[i] = arr[last]
            self._ids[i] = moved
            self._row[moved] = i
        self._ids.pop()
        del self._row[writer_id]
        return True

    def apply(self, deltas: Iterable[WriterDelta]) -> int:
        """Apply accepted writes (any order, repeats harmless); returns how many changed a row."""
        changed = 0
        for d in deltas:
            changed += self.upsert(d.writer_id, d.mean, d.anchor, d.n, d.version)
            self.seq = max(self.seq, int(d.seq))
        return changed

    def search(self, queries: np.ndarray, k: int = 5) -> list[SearchResult]:
        """Top-``k`` writers by average-linkage similarity for each query row (unit embeddings)."""
        q = np.atleast_2d(np.asarray(queries, np.float32))
        if q.shape[1] != self.dim:
            raise ValueError(f"queries must have {self.dim} values")
        count = len(self._ids)
        if count == 0:
            empty = np.zeros(0, np.float64)
            return [SearchResult((), empty, empty, np.zeros(0, np.int32), 0, 0, 0.0, 0.0)] * len(q)
        sims = q @ self._mean[:count].T  # (B, W): the one big product
        kk = min(int(k), count)
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if kk < count else np.tile(np.arange(count), (len(q), 1))
        w = self._n[:count].astype(np.float64)
        total_ns = sims @ w
        total_ns2 = np.square(sims) @ w
        total_n = int(w.sum())
        out: list[SearchResult] = []
        for b in range(len(q)):
            rows = top[b][np.argsort(-sims[b, top[b]], kind="stable")]
            out.append(
                SearchResult(
                    writer_ids=tuple(self._ids[i] for i in rows),
                    scores=sims[b, rows].astype(np.float64),
                    anchor_scores=(self._anchor[rows] @ q[b]).astype(np.float64),
                    n=self._n[rows].copy(),
                    total_writers=count,
                    total_n=total_n,
                    total_ns=float(total_ns[b]),
                    total_ns2=float(total_ns2[b]),
                )
            )
        return out

    def to_bytes(self) -> bytes:
        """Snapshot (``.npz``) of every row and the last applied ``seq``."""
        buf = io.BytesIO()
        count = len(self._ids)
        np.savez(
            buf,
            magic=np.asarray(_MAGIC),
            ids=np.asarray(self._ids, dtype=np.str_),
            mean=self._mean[:count],
            anchor=self._anchor[:count],
            n=self._n[:count],
            version=self._version[:count],
            seq=np.asarray(self.seq, np.int64),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> WriterIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if str(z["magic"]) != _MAGIC:
                raise ValueError("not a writer index snapshot")
            mean = z["mean"]
            count = len(mean)
            idx = cls(int(mean.shape[1]), capacity=max(1024, 2 * count))
            idx._mean[:count], idx._anchor[:count] = mean, z["anchor"]
            idx._n[:count], idx._version[:count] = z["n"], z["version"]
            idx._ids = [str(w) for w in z["ids"]]
            idx._row = {w: i for i, w in enumerate(idx._ids)}
            idx.seq = int(z["seq"])
        return idx
