"""An import chunk reads each customer's history once (services/history_cache.py): every row is
scored against exactly the history a read per row would have given it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.domain.imports import ImportState
from chalicelib.domain.rules import WindowBet
from chalicelib.domain.subjects import SubjectRef, SubjectStatus
from chalicelib.services import history_cache, imports
from chalicelib.services.history_cache import HistoryCache
from local.history_gen import HEADER, row
from tests.unit.test_imports import _run, container

START = datetime.now(UTC) - timedelta(days=40)  # rows span the 30-day window's edge


def _csv(n: int, shuffled: bool) -> bytes:
    # 6 customers, a bet every 3 h 20 min: ~40 rows each over ~40 days, so windows drop old bets.
    rows = [row(i, start=START, step_s=2000, customers=6, bad_every=13) for i in range(n)]
    if shuffled:  # some rows out of time order: the cache must notice and read again
        random.Random(5).shuffle(rows)
    return (HEADER + "".join(rows)).encode()


class NoCache(HistoryCache):
    """A read per row, as without the cache."""

    def get(self, subject: SubjectRef, start: datetime, end: datetime) -> tuple[list[WindowBet], SubjectStatus] | None:
        return None

    def fill(self, subject: SubjectRef, start: datetime, bets: list[WindowBet], status: SubjectStatus) -> None:
        pass


def _histories(c: wiring.Container) -> dict[str, Any]:
    """Every history the scorer was given, by bet id."""
    seen: dict[str, Any] = {}
    real = c.adapters.scorer.assess

    def assess(body: Any, history: Any) -> Any:
        seen[body.bet_id] = history.model_dump(mode="json")
        return real(body, history)

    c.adapters.scorer.assess = assess  # type: ignore[method-assign,assignment]
    return seen


@pytest.mark.parametrize("shuffled", [False, True], ids=["in time order", "shuffled"])
@pytest.mark.parametrize("workers", [1, 8])
def test_rows_see_the_history_a_read_per_row_would_give(
    shuffled: bool, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _csv(240, shuffled)

    def run(cache: type[HistoryCache]) -> tuple[dict[str, Any], int, wiring.Container]:
        monkeypatch.setattr(imports, "HistoryCache", cache)
        c = container(rows_per_chunk=60)
        c.imports.limits = c.imports.limits.__class__(**{**vars(c.imports.limits), "workers": workers})
        seen = _histories(c)
        job = _run(c, data)
        assert (job.state, job.rows_read, job.recorded) == (ImportState.done, 240, 222)  # 18 bad rows
        subjects = c.adapters.subjects
        assert isinstance(subjects, memory.MemorySubjects)
        return seen, subjects.calls.counts["subjects.recent"], c

    cached, reads_cached, c = run(HistoryCache)
    per_row, reads_per_row, _ = run(NoCache)
    assert cached == per_row and len(cached) == 222
    assert reads_per_row == 222
    if not shuffled:  # one read per customer per chunk
        assert reads_cached == 6 * 4
    assert reads_cached < reads_per_row
    # Histories reach 30 days back and no further.
    longest = max(len(h["bets"]) for h in cached.values())
    assert 20 < longest < 40


def _window_bets(subject: str, n: int, t: datetime) -> list[WindowBet]:
    return [WindowBet(bet_id=f"{subject}-{i}", stake_minor=100, placed_at=t + timedelta(minutes=i)) for i in range(n)]


def test_a_full_cache_keeps_its_customers_and_takes_no_new_one() -> None:
    cache = HistoryCache(max_bets=10)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    later = t + timedelta(days=1)
    for i in range(4):  # 3 + 3 + 3 fit, the 4th customer's 3 do not
        cache.fill(SubjectRef.customer(f"C{i}"), t, _window_bets(f"C{i}", 3, t), SubjectStatus())
    assert cache.get(SubjectRef.customer("C3"), t, later) is None
    for _ in range(3):  # a file cycling through more customers than fit still hits the ones kept
        for i in range(3):
            got = cache.get(SubjectRef.customer(f"C{i}"), t, later)
            assert got is not None and len(got[0]) == 3
    assert cache.get(SubjectRef.customer("C0"), t - timedelta(seconds=1), later) is None  # before what it covers
    # Re-filling a customer replaces its bets in the count: C0 with 1 bet frees room for C3's 3.
    cache.fill(SubjectRef.customer("C0"), t, _window_bets("C0", 1, t), SubjectStatus())
    cache.fill(SubjectRef.customer("C3"), t, _window_bets("C3", 3, t), SubjectStatus())
    assert cache.get(SubjectRef.customer("C3"), t, later) is not None
    assert history_cache.MAX_BETS >= 10_000
