"""The writer index a container matches slips against: a versioned matrix of every writer's
mean and anchor (domain.writer_index), loaded once per container from a snapshot in S3 and kept
current from the log of writer deltas (one Query per shard per hour since the last look).

A 100-slip batch against 100k writers is one matrix product per slip on a cached ~40 MB matrix
(bench/bench_writer_index.py). Writes never go through the cache: the writer's own item is written
conditionally on its version, so two batches creating or updating writers at once lose nothing;
deltas apply in any order, idempotently (a row only moves forward in version).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.writer_index import WriterIndex
from chalicelib.ports import FileStore, WriterStore

SNAPSHOT_KEY = "writers/index.bin"
SNAPSHOT_AT_KEY = "writers/index.at"
OVERLAP = timedelta(minutes=5)  # deltas re-read across a refresh boundary (applied idempotently)


class WriterIndexCache:
    def __init__(self, store: WriterStore, files: FileStore, bucket: str, dim: int, clock: Clock = utcnow):
        self.store, self.files, self.bucket = store, files, bucket
        self.dim = dim
        self.clock = clock
        self.index: WriterIndex | None = None
        self.seen_until: datetime | None = None
        self._lock = threading.Lock()

    def refresh(self) -> WriterIndex:
        """The index as of now: the snapshot on first use, then the deltas since the last refresh."""
        with self._lock:
            now = self.clock()
            if self.index is None:
                self.index, since = self._snapshot()
            else:
                assert self.seen_until is not None
                since = self.seen_until - OVERLAP
            self.index.apply(self.store.deltas_since(since))
            self.seen_until = now
            return self.index

    def _snapshot(self) -> tuple[WriterIndex, datetime]:
        data = self.files.read_optional(self.bucket, SNAPSHOT_KEY)
        at = self.files.read_optional(self.bucket, SNAPSHOT_AT_KEY)
        if data is None or at is None:
            # No snapshot yet: every delta still kept (the log outlives the snapshot interval).
            return WriterIndex(self.dim), self.clock() - DELTA_HISTORY
        index = WriterIndex.from_bytes(data)
        logger.info("writer index loaded", extra={"writers": len(index), "mb": round(index.nbytes() / 2**20, 1)})
        return index, datetime.fromisoformat(at.decode()) - OVERLAP

    def write_snapshot(self) -> int:
        """Compaction (the schedule): the current index to S3, so a new container reads one object
        and only the deltas after it."""
        index = self.refresh()
        assert self.seen_until is not None
        self.files.write(self.bucket, SNAPSHOT_KEY, index.to_bytes())
        self.files.write(self.bucket, SNAPSHOT_AT_KEY, self.seen_until.isoformat().encode())
        return len(index)


# How long writer deltas are kept: well beyond the snapshot interval, so a missed compaction or two
# loses nothing.
DELTA_HISTORY = timedelta(days=3)
