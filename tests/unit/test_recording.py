"""Recording a bet on in-memory stores: ids, idempotency, replays and conflicts, the customer's
history given to the scorer, all-or-nothing storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.bets import BetIn
from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.recording import BetRecorder, idempotent_bet_id, potential_return
from tests.helpers import bet_body


@pytest.fixture
def parts() -> tuple[BetRecorder, memory.MemoryBets, memory.MemorySubjects, memory.FixedScorer]:
    subjects = memory.MemorySubjects()
    bets = memory.MemoryBets(subjects)
    scorer = memory.FixedScorer()
    return BetRecorder(bets, subjects, scorer, "GBP"), bets, subjects, scorer


def body(**kw: Any) -> BetIn:
    return BetIn.model_validate(bet_body(**kw))


def test_new_bet_is_scored_stored_and_counted(parts: Any) -> None:
    rec, bets, subjects, _ = parts
    bet, created = rec.record(body(stake="250.00"), "key:till")
    assert created and bet.stake_minor == 25_000 and bet.risk.level == "medium" and bet.ingested_by == "key:till"
    assert bets.get(bet.bet_id) is not None
    profile = subjects.profile(SubjectRef.customer("C100"))
    assert profile is not None and profile.bets_total == 1 and profile.stake_total_minor == 25_000


def test_same_idempotency_key_replays_and_counts_once(parts: Any) -> None:
    rec, _, subjects, _ = parts
    b = body()
    first, c1 = rec.record(b, "key:till", "txn-1")
    again, c2 = rec.record(b, "key:till", "txn-1")
    assert (c1, c2) == (True, False) and first.bet_id == again.bet_id == idempotent_bet_id("key:till", "txn-1")
    other_till, c3 = rec.record(b, "key:other", "txn-1")
    assert c3 and other_till.bet_id != first.bet_id  # keys are scoped to the client
    assert subjects.profile(SubjectRef.customer("C100")).bets_total == 2


def test_same_id_with_different_details_is_a_conflict(parts: Any) -> None:
    rec, bets, _, _ = parts
    rec.record(body(bet_id="T-1"), "key:till")
    with pytest.raises(Conflict, match="different details"):
        rec.record(body(bet_id="T-1", stake="99.00"), "key:till")
    assert len(bets.items) == 1


def test_other_currency_is_refused_before_anything_is_written(parts: Any) -> None:
    rec, bets, _, scorer = parts
    with pytest.raises(Invalid, match="currency"):
        rec.record(body(currency="EUR"), "key:till")
    assert bets.items == {} and scorer.seen == []


def test_scorer_sees_the_customers_history_before_the_bet(parts: Any) -> None:
    rec, _, _, scorer = parts
    now = datetime.now(UTC)
    for i, stake in enumerate(["10.00", "20.00", "30.00"]):
        rec.record(body(stake=stake, placed_at=(now - timedelta(hours=30 - i)).isoformat()), "k")
    rec.record(body(stake="40.00", placed_at=(now - timedelta(hours=1)).isoformat()), "k")
    _, history = scorer.seen[-1]
    assert [b.stake_minor for b in history.bets] == [1000, 2000, 3000]  # oldest first, the bet itself not
    assert history.bets[-1].legs[0].selection == "Desert Orchid" and history.bets[-1].legs[0].odds == 3.5
    assert (now - timedelta(hours=1) - history.bets[-1].placed_at).total_seconds() == pytest.approx(27 * 3600, abs=5)
    rec.record(body(customer_id=None, placed_at=now.isoformat()), "k")
    assert scorer.seen[-1][1].bets == []  # anonymous: no history


def test_a_lost_race_answers_as_a_replay(parts: Any) -> None:
    rec, bets, _, _ = parts
    b = body(bet_id="RACE-1")
    winner, _ = rec.record(b, "k")
    original_get = bets.get
    calls = {"n": 0}

    def get_once_missing(bet_id: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else original_get(bet_id)

    bets.get = get_once_missing  # type: ignore[method-assign]
    replay, created = rec.record(b, "k")
    assert not created and replay.bet_id == winner.bet_id


def test_potential_return() -> None:
    assert potential_return(body(stake="10.00")) == 3500  # 5/2
    sp = body(selections=[{"event": "e", "selection": "x", "price": "SP"}])
    assert potential_return(sp) is None
    # £25 each-way at 5/2: £12.50 win x 3.5 = £43.75, £12.50 place x (1 + 2.5/4) = £20.31 (down to the penny)
    assert potential_return(body(stake="25.00", bet_type="each_way")) == 6406
    # A trixie at evens: 3 doubles (x4) and a treble (x8) on a £1 unit stake
    evens = [{"event": f"e{i}", "selection": "x", "price": "evs"} for i in range(3)]
    assert potential_return(body(stake="4.00", bet_type="trixie", selections=evens)) == 2000
    assert potential_return(body(bet_type="forecast", selections=evens[:2])) is None  # a dividend
