"""The histories of a history import's customers, read once per chunk instead of once per row.

A chunk records each customer's rows one after another on one lane (`services/imports.py`), so
the bets a row is scored against are the ones the store held when the customer's first row in
the chunk was read, plus the rows recorded since: the same list a Query per row would return
(`tests/unit/test_history_cache.py` imports a file both ways and compares every score). A row
placed before what the cache covers (a file not in time order) reads the store again.

Staff's status of a customer (whitelist, category) is the one read with the first row: a
decision taken while a chunk runs applies from the next chunk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.bets import Bet
from chalicelib.domain.rules import WindowBet, stored_window_bet
from chalicelib.domain.subjects import SubjectRef, SubjectStatus

MAX_SUBJECTS = 256  # per chunk: memory bounded whatever the file (a customer's 30 days each)


@dataclass
class _Entry:
    covered_from: datetime  # every stored bet of the subject placed since then is in `bets`
    status: SubjectStatus
    bets: dict[str, WindowBet] = field(default_factory=dict)


class HistoryCache:
    def __init__(self, max_subjects: int = MAX_SUBJECTS):
        self.max_subjects = max_subjects
        self._entries: OrderedDict[SubjectRef, _Entry] = OrderedDict()
        self._lock = threading.Lock()  # lanes share the cache; a subject is only ever on one lane
        self.hits = self.misses = 0

    def get(self, subject: SubjectRef, start: datetime, end: datetime) -> tuple[list[WindowBet], SubjectStatus] | None:
        with self._lock:
            entry = self._entries.get(subject)
            if entry is None or start < entry.covered_from:
                self.misses += 1
                return None
            self._entries.move_to_end(subject)
            self.hits += 1
            bets = [b for b in entry.bets.values() if start <= b.placed_at <= end]
        return sorted(bets, key=lambda b: (b.placed_at, b.bet_id)), entry.status

    def fill(self, subject: SubjectRef, start: datetime, bets: list[WindowBet], status: SubjectStatus) -> None:
        """What the store returned for `subject` from `start` on, with no upper bound."""
        with self._lock:
            self._entries[subject] = _Entry(start, status, {b.bet_id: b for b in bets})
            self._entries.move_to_end(subject)
            while len(self._entries) > self.max_subjects:
                self._entries.popitem(last=False)

    def add(self, subject: SubjectRef, bet: Bet) -> None:
        with self._lock:
            entry = self._entries.get(subject)
            if entry is not None and bet.placed_at >= entry.covered_from:
                entry.bets[bet.bet_id] = stored_window_bet(bet)
