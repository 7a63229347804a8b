"""Settlement on moto: the open-bets index written with the bet, results by date, the settlement
transaction (bet, window items, profiles, activity, feed row, index), idempotency and corrections,
and a window item gone with its TTL that does not stop the bet settling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import wiring
from chalicelib.adapters.memory import FixedScorer
from chalicelib.core import aws, config
from chalicelib.domain.bets import BetIn
from chalicelib.domain.feed import FeedFilter
from chalicelib.domain.results import EventResult
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import bet_body

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
C = SubjectRef.customer("C100")


def services(adapters: wiring.Adapters) -> wiring.Container:
    adapters.scorer = FixedScorer()
    return wiring.assemble(config.settings(), adapters, clock=lambda: NOW)


def place(c: wiring.Container, bet_id: str, selections: list[dict[str, str]], **kw: Any) -> None:
    body = bet_body(bet_id=bet_id, customer_id="C100", stake="10.00", selections=selections,
                    placed_at=(NOW - timedelta(hours=1)).isoformat(), **kw)  # fmt: skip
    c.recorder.record(BetIn.model_validate(body), "key:t")


def sel(event: str, runner: str, price: str) -> dict[str, str]:
    return {"event": event, "market": "win", "selection": runner, "price": price}


def result(event: str, *positions: str) -> EventResult:
    return EventResult.model_validate({"event": event, "date": NOW.date().isoformat(), "positions": list(positions)})


def test_results_settle_the_events_bets_once(adapters: wiring.Adapters) -> None:
    c = services(adapters)
    place(c, "S-1", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    place(c, "D-1", [sel("14:30 Ascot", "Sea Bird", "2.0"), sel("15:00 York", "Red Sky", "3.0")], bet_type="double")
    place(c, "O-1", [sel("16:00 York", "Nobody", "3.0")])
    [r] = c.settler.post_results([result("Ascot 14:30", "Sea Bird")])
    assert (r.bets, r.settled, r.still_open, r.settled_ids) == (2, 1, 1, ["S-1"])
    stored = c.adapters.bets.get("S-1")
    assert stored is not None and stored.settlement is not None and stored.settlement.profit_minor == 4500
    [r] = c.settler.post_results([result("15:00 York", "Red Sky")])
    assert r.settled_ids == ["D-1"]
    profile = c.adapters.subjects.profile(C)
    assert profile is not None and (profile.settled_bets, profile.profit_total_minor) == (2, 4500 + 5000)
    window = {b.bet_id: b.profit_minor for b in c.adapters.subjects.bets_between(C, NOW - timedelta(days=1), NOW)}
    assert window == {"S-1": 4500, "D-1": 5000, "O-1": None}
    rows, _, _ = c.feed.page(FeedFilter(), 10)
    assert {x.record_id: (x.bet_state, x.profit_minor) for x in rows} == {
        "S-1": ("settled", 4500), "D-1": ("settled", 5000), "O-1": (None, None),
    }  # fmt: skip
    # The same result again: found (settled with it), unchanged; a correction: the difference only.
    [again] = c.settler.post_results([result("14:30 Ascot", "Sea Bird")])
    assert (again.bets, again.settled, again.unchanged) == (2, 0, 2)
    [fixed] = c.settler.post_results([result("14:30 Ascot", "Blue Moon", "Sea Bird")])
    assert (fixed.bets, fixed.settled) == (2, 2)
    profile = c.adapters.subjects.profile(C)
    assert profile is not None and (profile.settled_bets, profile.profit_total_minor) == (2, -2000)


def test_an_expired_window_item_does_not_stop_the_settlement(adapters: wiring.Adapters) -> None:
    c = services(adapters)
    place(c, "S-2", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    ddb = aws.client("dynamodb")
    table = config.settings().table("subjects")
    items = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND begins_with(sk, :b)",
                      ExpressionAttributeValues={":pk": {"S": "CUST#C100"}, ":b": {"S": "BET#"}})["Items"]  # fmt: skip
    [item] = items
    ddb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})  # as TTL would
    [r] = c.settler.post_results([result("14:30 Ascot", "Sea Bird")])
    assert r.settled == 1
    assert c.adapters.subjects.bets_between(C, NOW - timedelta(days=1), NOW) == []  # not recreated half-empty
    profile = c.adapters.subjects.profile(C)
    assert profile is not None and profile.profit_total_minor == 4500


def test_the_event_index_is_sharded_and_every_shard_is_read() -> None:
    # A big race takes thousands of bets a minute: one partition key per event would be hot.
    from chalicelib.adapters.dynamodb import keys

    pks = {keys.event_open("ascot-1430", f"b{i}") for i in range(200)}
    assert pks == set(keys.event_open_shards("ascot-1430")) and len(pks) == keys.EVENT_SHARDS
    settled = {keys.event_settled("ascot-1430", "2026-05-01", f"b{i}") for i in range(200)}
    assert settled == set(keys.event_settled_shards("ascot-1430", "2026-05-01"))
