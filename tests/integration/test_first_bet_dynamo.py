"""first_bet_at on DynamoDB is the earliest placed bet, not the first received (a till back online)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import wiring
from chalicelib.adapters.memory import FixedScorer
from chalicelib.domain.bets import BetIn
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.recording import BetRecorder
from tests.helpers import bet_body, recent_noon

NOON = recent_noon()  # daytime, 1-20 h ago: rules at the real clock see its bets


def test_first_bet_at_moves_back_to_the_earliest_placed(adapters: wiring.Adapters) -> None:
    rec = BetRecorder(adapters.bets, adapters.subjects, FixedScorer(), "GBP")
    c = SubjectRef.customer("C42")
    for hours in (0, 30, 2, 40 * 24):  # the last one is older than the lookback: still the earliest
        rec.record(
            BetIn.model_validate(bet_body(customer_id="C42", placed_at=(NOON - timedelta(hours=hours)).isoformat())),
            "t",
        )
    profile = adapters.subjects.profile(c)
    assert profile is not None and profile.bets_total == 4
    assert datetime.fromisoformat(str(profile.first_bet_at)) == NOON - timedelta(days=40)
