"""What a poll of the feed costs on DynamoDB (moto): every answer carries a since-cursor, an empty
one too, so polling a quiet filter reads only the hour buckets since the previous poll. The
DynamoDB calls are counted as tests/integration/test_aws_calls.py counts them (a botocore
before-call hook), here on the feed adapter's own client. Times are fixed instants (midday)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import wiring
from chalicelib.adapters.dynamodb import keys
from chalicelib.domain.bets import Bet, BetIn, History
from chalicelib.domain.feed import FeedFilter
from chalicelib.services.feed import FeedReader
from chalicelib.services.recording import BetRecorder
from tests.helpers import bet_body

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
QUIET = FeedFilter(customer_id="QUIET")  # no bet matches it for hours


def _bet(adapters: wiring.Adapters, bet_id: str, at: datetime, customer: str = "BUSY") -> Bet:
    from chalicelib.adapters.memory import FixedScorer

    rec = BetRecorder(adapters.bets, adapters.subjects, FixedScorer(), "GBP")
    body = BetIn.model_validate(bet_body(placed_at=at.isoformat(), customer_id=customer))
    bet = rec.build(body, bet_id, "test", History()).model_copy(update={"received_at": at})
    assert adapters.bets.record(bet, "fp", [])
    return bet


def _counting(adapters: wiring.Adapters) -> Counter[str]:
    calls: Counter[str] = Counter()

    def before(model: Any, **_: Any) -> None:
        calls[f"dynamodb:{model.name}"] += 1

    adapters.feed.db.client.meta.events.register("before-call.dynamodb.*", before)  # type: ignore[attr-defined]
    return calls


def test_polling_a_quiet_filter_costs_the_same_however_long_it_stays_quiet(adapters: wiring.Adapters) -> None:
    now = [T0]
    reader = FeedReader(adapters.feed, adapters.subjects, clock=lambda: now[0])
    for i in range(6):  # the morning's bets, none the filter's
        _bet(adapters, f"AM-{i}", T0 - timedelta(hours=6 - i))
    calls = _counting(adapters)

    rows, _, since = reader.page(QUIET, 150, hours=24)
    assert rows == [] and since is not None  # an empty page has a since-cursor: "read up to now"
    first_page = calls["dynamodb:Query"]
    assert first_page >= 25 * keys.FEED_SHARDS  # the first page reads the whole range (once)

    per_poll: list[int] = []
    for n in range(1, 73):  # six hours of polls, five minutes apart, busy with other customers' bets
        now[0] = T0 + timedelta(minutes=5 * n)
        _bet(adapters, f"PM-{n}", now[0] - timedelta(seconds=10))
        calls.clear()
        got, since = reader.newer(QUIET, since, 150)
        assert got == []
        per_poll.append(calls["dynamodb:Query"])
    # One hour bucket per poll, two when the window crosses an hour: 8 or 16 Queries, never more.
    assert set(per_poll) <= {keys.FEED_SHARDS, 2 * keys.FEED_SHARDS}
    assert max(per_poll[-12:]) == max(per_poll[:12]) == 2 * keys.FEED_SHARDS
    assert sum(per_poll[-12:]) == sum(per_poll[:12])  # the last hour of polls costs what the first did
    print(f"\nfirst page {first_page} Queries; polls on a quiet filter: {Counter(per_poll)} Queries each")

    # The cursor it used to keep (the first page's, six hours old) reads every hour since.
    calls.clear()
    reader.newer(QUIET, adapters.feed.mark(T0), 150)
    assert calls["dynamodb:Query"] == 7 * keys.FEED_SHARDS

    # A row positioned before that last quiet poll but committed after it (its write was in
    # flight): within SETTLE of the poll, so the next poll still finds it.
    late = _bet(adapters, "Q-0", now[0] - timedelta(seconds=30), customer="QUIET")
    now[0] += timedelta(seconds=30)
    got, since = reader.newer(QUIET, since, 150)
    assert [r.record_id for r in got] == [late.bet_id]
    # The filter's next bet: found by the next poll, once.
    now[0] += timedelta(minutes=5)
    match = _bet(adapters, "Q-1", now[0] - timedelta(seconds=20), customer="QUIET")
    got, since = reader.newer(QUIET, since, 150)
    assert [r.record_id for r in got] == [match.bet_id]
    for _ in range(3):
        now[0] += timedelta(minutes=5)
        got, since = reader.newer(QUIET, since, 150)
        assert got == []  # nothing twice
