"""The live and risk feeds (newest first, filters, each row once across pages while bets arrive,
polling with since), client categories (audited, on every row, a self-excluded customer's bet is a
critical alert at once) and the staff whitelist (audited, read by the scorer with the history)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import wiring
from chalicelib.adapters import memory
from tests.helpers import Api, bet_body


def put(api: Api, path: str, body: Any) -> Any:
    return api.c.http.put(path, body=json.dumps(body), headers={**api.staff(), "content-type": "application/json"})


def place(api: Api, **kw: Any) -> str:
    r = api.post("/bets", bet_body(**kw))
    assert r.status_code == 201, r.body
    return str(r.json_body["bet_id"])


def test_feed_pages_return_every_row_once_while_bets_arrive(api: Api) -> None:
    placed = [place(api, customer_id=f"F{i % 3}", stake=f"{5 + i}.00") for i in range(12)]
    seen: list[str] = []
    first = api.get("/feed?limit=5").json_body
    assert [r["record_id"] for r in first["rows"]] == placed[::-1][:5]  # newest first
    since = first["since"]
    seen += [r["record_id"] for r in first["rows"]]
    cursor = first["next_cursor"]
    newer = [place(api, customer_id="F9") for _ in range(3)]  # arrive while staff page back
    while cursor:
        page = api.get(f"/feed?limit=5&cursor={cursor}").json_body
        seen += [r["record_id"] for r in page["rows"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen))
    polled = api.get(f"/feed?since={since}").json_body
    assert [r["record_id"] for r in polled["rows"]] == newer  # oldest first
    assert api.get(f"/feed?since={polled['since']}").json_body["rows"] == []


def test_feed_filters(api: Api) -> None:
    place(api, customer_id="A", stake="5.00", channel="online", shop_id=None)
    big = place(api, customer_id="B", stake="300.00")
    rows = api.get("/feed?min_stake=100").json_body["rows"]
    assert [r["record_id"] for r in rows] == [big]
    assert {r["customer_id"] for r in api.get("/feed?channel=online").json_body["rows"]} == {"A"}
    assert {r["customer_id"] for r in api.get("/feed?customer_id=B").json_body["rows"]} == {"B"}
    assert api.get("/feed?selection=desert").json_body["rows"]  # "Desert Orchid"
    assert api.get("/feed?selection=nothing-like-it").json_body["rows"] == []
    assert api.get("/feed?risk_level=bogus").status_code == 400
    assert api.get("/feed?limit=0").status_code == 400
    assert api.get("/feed", headers={"x-api-key": api.ingest_key}).status_code == 403


def test_categories_are_audited_shown_and_a_self_excluded_bet_is_critical(api: Api, services: wiring.Container) -> None:
    assert put(api, "/customers/SX/category", {"category": "nope", "reason": "x"}).status_code == 422
    r = put(api, "/customers/SX/category", {"category": "self_excluded", "reason": "five-year exclusion"})
    assert (
        r.status_code == 200
        and r.json_body["category"] == "self_excluded"
        and r.json_body["category_by"] == "user:alice"
    )
    bet_id = place(api, customer_id="SX", stake="2.00")
    notifier = services.adapters.notifier
    assert isinstance(notifier, memory.MemoryNotifier)
    [alert] = [a for a in notifier.sent if a.rule_id == "self_excluded_customer"]
    assert alert.severity == "critical" and alert.evidence.bet_ids == [bet_id]
    row = next(r for r in api.get("/feed").json_body["rows"] if r["record_id"] == bet_id)
    assert row["category"] == "self_excluded"
    assert [r["record_id"] for r in api.get("/feed?category=self_excluded").json_body["rows"]] == [bet_id]
    assert bet_id in [r["record_id"] for r in api.get("/feed/risk").json_body["rows"]]  # watched category
    prof = api.get("/customers/SX").json_body
    assert prof["category"] == "self_excluded" and prof["category_reason"] == "five-year exclusion"
    assert [e["action"] for e in api.get("/customers/SX/audit").json_body["events"]] == ["category_set"]


def test_risk_feed_holds_high_risk_bets_only(api: Api) -> None:
    low = place(api, customer_id="L", stake="5.00")
    high = place(api, customer_id="H", stake="600.00")  # the test scorer calls £500+ high
    ids = [r["record_id"] for r in api.get("/feed/risk").json_body["rows"]]
    assert high in ids and low not in ids


def test_whitelist_is_audited_and_reaches_the_scorer(api: Api, services: wiring.Container) -> None:
    until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    assert put(api, "/customers/W1/whitelist", {"until": "2001-01-01T00:00:00Z", "reason": "old"}).status_code == 422
    r = put(api, "/customers/W1/whitelist", {"until": until, "reason": "known high roller"})
    assert r.status_code == 200 and r.json_body["whitelisted_until"]
    place(api, customer_id="W1", stake="50.00")
    scorer = services.adapters.scorer
    assert isinstance(scorer, memory.FixedScorer)
    _, history = scorer.seen[-1]
    assert history.whitelisted_until is not None and history.whitelisted_until > datetime.now(UTC)
    cleared = api.c.http.delete("/customers/W1/whitelist", headers=api.staff())
    assert cleared.status_code == 200 and cleared.json_body["whitelisted_until"] is None
    actions = [e["action"] for e in api.get("/customers/W1/audit").json_body["events"]]
    assert actions == ["whitelisted", "whitelist_removed"]


def test_an_empty_feed_page_still_has_a_since_cursor_so_polls_read_only_what_is_new(api: Api) -> None:
    quiet = api.get("/feed?customer_id=NOBODY").json_body
    assert quiet["rows"] == [] and quiet["since"]  # not null: poll from here, not the whole range again
    bet = place(api, customer_id="NOBODY")
    polled = api.get(f"/feed?customer_id=NOBODY&since={quiet['since']}").json_body
    assert [r["record_id"] for r in polled["rows"]] == [bet] and polled["since"]
    assert api.get(f"/feed?customer_id=NOBODY&since={polled['since']}").json_body["rows"] == []
    older = api.get(f"/feed?limit=1&cursor={polled['rows'][0]['cursor']}").json_body
    assert older["since"] is None  # an older page: the first page's since stands
    bad = api.get("/feed?since=not-a-cursor")
    assert bad.status_code == 400 and bad.json_body["details"][0]["field"] == "cursor"


def test_the_since_cursor_follows_the_clock_on_a_quiet_filter() -> None:
    from chalicelib.adapters.cursor import position_of
    from chalicelib.domain.bets import Bet, BetIn, History
    from chalicelib.domain.feed import FeedFilter
    from chalicelib.services.feed import SETTLE, FeedReader
    from chalicelib.services.recording import BetRecorder

    t0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    now = [t0]
    subjects = memory.MemorySubjects()
    feed = memory.MemoryFeed()
    bets = memory.MemoryBets(subjects, feed)
    reader = FeedReader(feed, subjects, clock=lambda: now[0])
    quiet = FeedFilter(customer_id="Q")

    def bet(bet_id: str, at: datetime, customer: str) -> Bet:
        rec = BetRecorder(bets, subjects, memory.FixedScorer(), "GBP")
        body = BetIn.model_validate(bet_body(placed_at=at.isoformat(), customer_id=customer))
        b = rec.build(body, bet_id, "test", History()).model_copy(update={"received_at": at})
        assert bets.record(b, "fp", [])
        return b

    bet("OLD", t0 - timedelta(hours=5), "Q")  # the filter's last match, hours ago
    rows, _, since = reader.page(quiet, 1, hours=24)
    assert [r.record_id for r in rows] == ["OLD"] and since is not None
    assert position_of(since) > position_of(rows[0].cursor)  # "now", not the hours-old row
    for n in range(1, 13):  # an hour of quiet polls, other customers busy
        now[0] = t0 + timedelta(minutes=5 * n)
        bet(f"B-{n}", now[0] - timedelta(seconds=5), "OTHER")
        got, since = reader.newer(quiet, since, 150)
        assert got == []
        assert position_of(since) == f"{(now[0] - SETTLE).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#~"
    late = bet("LATE", now[0] - timedelta(seconds=30), "Q")  # positioned before the poll, written after
    now[0] += timedelta(seconds=30)
    got, since = reader.newer(quiet, since, 150)
    assert [r.record_id for r in got] == [late.bet_id]
    assert position_of(since) >= position_of(got[0].cursor)  # never older than a row returned: none twice
    now[0] += timedelta(minutes=5)
    assert reader.newer(quiet, since, 150)[0] == []
    # A full page of new rows: the cursor stops at the last one (the rest come next poll).
    for i in range(3):
        bet(f"Q-{i}", now[0] - timedelta(seconds=3 - i), "Q")
    got, since = reader.newer(quiet, since, 2)
    assert [r.record_id for r in got] == ["Q-0", "Q-1"] and position_of(since) == position_of(got[-1].cursor)
    assert [r.record_id for r in reader.newer(quiet, since, 2)[0]] == ["Q-2"]
