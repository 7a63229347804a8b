"""Open-set writer clustering of embedded slips (the slip-clustering queue's use case).

Each slip is assigned in one atomic write (ports.WriterStore.assign): the slip gets a writer once
(at-least-once delivery gives one assignment), the writer's centroid moves under an optimistic check
(two consumers cannot lose an update), the bet counts for the writer and the writer is linked to
the bet's customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np

from chalicelib import writer_matching
from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.rules import WindowBet, window_bet_of
from chalicelib.domain.slips import ClusteringMessage, SlipStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import BetStore, SlipAssignment, SlipStore, StaleWrite, WriterState, WriterStore
from chalicelib.writer_matching import WriterCentroid


class StaleSlip(Exception):
    """The slip is not (or no longer) waiting for a writer."""


def new_writer_id() -> str:
    return "w-" + uuid.uuid4().hex[:12]


class Clusterer:
    def __init__(
        self,
        slips: SlipStore,
        bets: BetStore,
        writers: WriterStore,
        clock: Clock = utcnow,
        new_id: Callable[[], str] = new_writer_id,
        on_writer_bet: Callable[[SubjectRef, WindowBet], object] | None = None,
    ):
        self.slips, self.bets, self.store = slips, bets, writers
        self.clock = clock
        self.new_id = new_id
        self.on_writer_bet = on_writer_bet
        self._writers: list[WriterCentroid] | None = None
        self._tagged: dict[str, tuple[str, ...]] = {}

    def load(self) -> None:
        """Read the writers once per batch."""
        states = self.store.writers()
        self._tagged = {w.writer_id: w.tagged for w in states}
        self._writers = [WriterCentroid(w.writer_id, np.asarray(w.centroid, np.float32), w.n) for w in states]

    def assign(self, msg: ClusteringMessage) -> tuple[str, bool]:
        """Assign one slip to a writer: (writer_id, is_new). Raises StaleSlip for a redelivery."""
        if self._writers is None:
            self.load()
        writers = self._writers
        assert writers is not None
        record = self.slips.get(msg.bet_id)
        if record is None or record.status != SlipStatus.embedded or record.object_key != msg.object_key:
            raise StaleSlip(msg.bet_id)
        found = self.bets.get(msg.bet_id)
        if found is None:
            raise StaleSlip(msg.bet_id)
        emb = np.asarray(msg.embedding, dtype=np.float32)
        writer_id, best = writer_matching.match(emb, writers)
        is_new = writer_id is None
        if is_new:
            current = WriterCentroid(self.new_id(), emb / (np.linalg.norm(emb) or 1.0), 0)
            centroid = current.centroid
        else:
            current = next(w for w in writers if w.writer_id == writer_id)
            centroid = writer_matching.updated_centroid(current, emb)
        # Similarity of the slip to the writer it joined; a new writer's first slip is its centroid.
        similarity = 1.0 if is_new else best
        tagged = self._tagged.get(current.writer_id, ())
        state = WriterState(current.writer_id, np.asarray(centroid, np.float32).tolist(), current.n + 1, tagged)
        try:
            self.store.assign(SlipAssignment(msg, found.bet, state, current.n, similarity), self.clock())
        except StaleWrite:
            self._writers = None  # a lost race may have changed centroids: reread on the next slip
            if (again := self.slips.get(msg.bet_id)) is not None and again.status != SlipStatus.embedded:
                raise StaleSlip(msg.bet_id) from None  # a concurrent delivery assigned it
            raise
        if is_new:
            writers.append(WriterCentroid(current.writer_id, np.asarray(centroid, np.float32), 1))
        else:
            current.centroid, current.n = np.asarray(centroid, np.float32), current.n + 1
        obs.count(obs.WRITER_NEW if is_new else obs.WRITER_MATCHED)
        if self.on_writer_bet is not None:
            try:
                self.on_writer_bet(SubjectRef.writer(current.writer_id), window_bet_of(found.bet, has_slip=True))
            except Exception:  # noqa: BLE001 - the assignment stands; the schedule evaluates the writer too
                obs.count(obs.BET_PATH_RULE_ERRORS)
                logger.exception("writer bet-path rules failed", extra={"bet_id": msg.bet_id})
        logger.info(
            "slip assigned",
            extra={
                "bet_id": msg.bet_id,
                "writer_id": current.writer_id,
                "new_writer": is_new,
                "similarity": similarity,
            },
        )
        return current.writer_id, is_new
