"""Open-set writer linking of embedded slips (the slip-clustering queue's use case), precision first.

Each slip is decided by `domain.writer_linking.decide` against the container's cached writer
index: it **joins** a writer only on strong evidence (average linkage and the writer's frozen
anchor, normalised by the gallery's own statistics); a borderline match founds a writer of its own
with a **candidate link** to the near writer for staff to confirm or reject (never a silent merge);
otherwise it founds a **new** writer. The assignment is one atomic write (ports.WriterStore.assign):
the slip gets its writer once, the writer's item moves only if its version is still the one read
(two batches lose nothing), the bet counts for the writer and its tagged customers.

After a writer changes, `merge_check` re-checks it against its nearest writer over all pairs of
their slips; a merge it finds runs as the same idempotent job staff merges use — unless staff said
the two are different people (a rejected candidate, a split): clustering never undoes that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain import writer_linking as wl
from chalicelib.domain.rules import WindowBet, window_bet_of
from chalicelib.domain.slips import ClusteringMessage, SlipStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.domain.writer_index import WriterIndex
from chalicelib.ports import BetStore, FeedStore, SlipAssignment, SlipStore, StaleWrite, WriterState, WriterStore
from chalicelib.services.writer_index import WriterIndexCache

RETRIES = 3
# (kept, absorbed, reason) -> starts the merge job.
MergeStarter = Callable[[str, str, str], object]


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
        index: WriterIndexCache,
        settings: wl.LinkSettings,
        clock: Clock = utcnow,
        new_id: Callable[[], str] = new_writer_id,
        on_writer_bet: Callable[[SubjectRef, WindowBet], object] | None = None,
        start_merge: MergeStarter | None = None,
        feed: FeedStore | None = None,
    ):
        self.slips, self.bets, self.store, self.index = slips, bets, writers, index
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.on_writer_bet = on_writer_bet
        self.start_merge = start_merge
        self.feed = feed
        self._index: WriterIndex | None = None  # refreshed once per batch, and after a lost race

    def _current(self, fresh: bool = False) -> WriterIndex:
        if self._index is None or fresh:
            self._index = self.index.refresh()
        return self._index

    def assign(self, msg: ClusteringMessage) -> tuple[str, bool]:
        """Link one slip: (writer_id, founded a new writer). Raises StaleSlip for a redelivery."""
        record = self.slips.get(msg.bet_id)
        if record is None or record.status != SlipStatus.embedded or record.object_key != msg.object_key:
            raise StaleSlip(msg.bet_id)
        found = self.bets.get(msg.bet_id)
        if found is None:
            raise StaleSlip(msg.bet_id)
        emb = np.asarray(msg.embedding, dtype=np.float64)
        for attempt in range(RETRIES):
            index = self._current(fresh=attempt > 0)
            decision = wl.decide(emb, index, self.settings)
            state, expected = self._next_state(decision, emb)
            # Similarity to the writer it went to: a founding slip is its writer's mean.
            similarity = decision.similarity if decision.action == "join" else 1.0
            assignment = SlipAssignment(msg, found.bet, state, expected, similarity, decision)
            try:
                self.store.assign(assignment, self.clock())
                break
            except StaleWrite:
                again = self.slips.get(msg.bet_id)
                if again is None or again.status != SlipStatus.embedded:
                    raise StaleSlip(msg.bet_id) from None  # a concurrent delivery assigned it
                if attempt == RETRIES - 1:
                    raise  # retried by the queue
                # The writer moved under us (another batch): decide again on fresh state.
        index.apply([state.link.delta()])
        is_new = decision.action != "join"
        obs.count(obs.WRITER_NEW if is_new else obs.WRITER_MATCHED)
        if decision.action == "candidate":
            obs.count(obs.WRITER_CANDIDATES)
        logger.info(
            "slip linked",
            extra={"bet_id": msg.bet_id, "writer_id": state.writer_id, "action": decision.action,
                   "score": decision.score, "reason": decision.reason},
        )  # fmt: skip
        self._after(state, found.bet)
        return state.writer_id, is_new

    def _next_state(self, decision: wl.LinkDecision, emb: np.ndarray) -> tuple[WriterState, int]:
        """The writer the slip goes to, after it: (state, the version the write expects; 0 = new)."""
        if decision.action == "join" and decision.writer_id:
            current = self.store.writer(decision.writer_id)
            if current is not None:
                return replace(current, link=wl.add_slip(current.link, emb, self.settings)), current.version
        return WriterState(wl.new_writer(self.new_id(), emb)), 0

    def _after(self, state: WriterState, bet: object) -> None:
        writer = SubjectRef.writer(state.writer_id)
        try:
            if self.feed is not None:
                from chalicelib.domain.bets import Bet

                assert isinstance(bet, Bet)
                self.feed.set_writer(bet, state.writer_id)
            if self.on_writer_bet is not None:
                from chalicelib.domain.bets import Bet

                assert isinstance(bet, Bet)
                self.on_writer_bet(writer, window_bet_of(bet, has_slip=True))
            self._maybe_merge(state)
        except Exception:  # noqa: BLE001 - the assignment stands; rules run on the schedule too
            obs.count(obs.BET_PATH_RULE_ERRORS)
            logger.exception("after-link steps failed", extra={"writer_id": state.writer_id})

    def _maybe_merge(self, state: WriterState) -> None:
        if self.start_merge is None:
            return
        proposal = wl.merge_check(state.link, self._current(), self.settings)
        if proposal is None:
            return
        if self.store.rejected(proposal.kept, proposal.absorbed):
            logger.info("merge skipped: staff keep these writers apart", extra={"reason": proposal.reason})
            return
        if not self.settings.auto_merge:
            logger.info("merge proposed", extra={"reason": proposal.reason})
            return
        self.start_merge(proposal.kept, proposal.absorbed, proposal.reason)
        obs.count(obs.WRITER_MERGES)
