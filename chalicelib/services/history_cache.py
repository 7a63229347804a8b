"""The histories of a history import's customers, read once per chunk instead of once per row.

A chunk records each customer's rows one after another on one lane (`services/imports.py`), so
the bets a row is scored against are the ones the store held when the customer's first row in
the chunk was read, plus the rows recorded since: the same list a Query per row would return
(`tests/unit/test_history_cache.py` imports a file both ways and compares every score). A row
placed before what the cache covers (a file not in time order) reads the store again.

The cache holds at most MAX_BETS bets (about 2.2 KB each, measured): once full it takes no new
customer, and keeps the ones it has. Evicting the least recently used instead would miss on every
row of a file that cycles through more customers than fit, which is how a day's bets interleave.

Staff's status of a customer (whitelist, category) is the one read with the first row: a
decision taken while a chunk runs applies from the next chunk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.bets import Bet
from chalicelib.domain.rules import WindowBet, stored_window_bet
from chalicelib.domain.subjects import SubjectRef, SubjectStatus

MAX_BETS = 60_000  # per chunk: about 130 MB whatever the file (the import function has 1 GB)


@dataclass
class _Entry:
    covered_from: datetime  # every stored bet of the subject placed since then is in `bets`
    status: SubjectStatus
    bets: dict[str, WindowBet] = field(default_factory=dict)


class HistoryCache:
    def __init__(self, max_bets: int = MAX_BETS):
        self.max_bets = max_bets
        self._entries: dict[SubjectRef, _Entry] = {}
        self._size = 0  # bets held, over all entries
        self._lock = threading.Lock()  # lanes share the cache; a subject is only ever on one lane
        self.hits = self.misses = 0

    def get(self, subject: SubjectRef, start: datetime, end: datetime) -> tuple[list[WindowBet], SubjectStatus] | None:
        with self._lock:
            entry = self._entries.get(subject)
            if entry is None or start < entry.covered_from:
                self.misses += 1
                return None
            self.hits += 1
            bets = [b for b in entry.bets.values() if start <= b.placed_at <= end]
        return sorted(bets, key=lambda b: (b.placed_at, b.bet_id)), entry.status

    def fill(self, subject: SubjectRef, start: datetime, bets: list[WindowBet], status: SubjectStatus) -> None:
        """What the store returned for `subject` from `start` on, with no upper bound."""
        with self._lock:
            if (old := self._entries.pop(subject, None)) is not None:
                self._size -= len(old.bets)
            by_id = {b.bet_id: b for b in bets}
            if self._size + len(by_id) > self.max_bets:
                return  # full: this customer's rows read the store
            self._entries[subject] = _Entry(start, status, by_id)
            self._size += len(by_id)

    def add(self, subject: SubjectRef, bet: Bet) -> None:
        with self._lock:
            entry = self._entries.get(subject)
            if entry is not None and bet.placed_at >= entry.covered_from and bet.bet_id not in entry.bets:
                entry.bets[bet.bet_id] = stored_window_bet(bet)
                self._size += 1
