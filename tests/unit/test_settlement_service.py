"""Settlement through the service on in-memory stores: results settle the bets open on their event
(found by the event index), the bet, its subjects' P/L windows and profiles and its feed row show it,
settling twice changes nothing, a corrected result counts only the difference, multiples wait for
their last leg, and the loss and beats-SP rules fire on the settled data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.core import config
from chalicelib.domain.bets import BetIn
from chalicelib.domain.results import EventResult
from chalicelib.domain.rules import RuleSpec
from chalicelib.domain.slips import SlipRecord, SlipStatus
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import Api, Clock, bet_body

T0 = (datetime.now(UTC) - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
DAY = T0.date().isoformat()


@pytest.fixture
def c() -> wiring.Container:
    return wiring.in_memory(config.from_env({}), clock=Clock(T0))


def sel(event: str, runner: str, price: str) -> dict[str, str]:
    return {"event": event, "market": "win", "selection": runner, "price": price}


def place(c: wiring.Container, customer: str, stake: str, selections: list[dict[str, str]], **kw: Any) -> str:
    body = bet_body(
        customer_id=customer, stake=stake, selections=selections, placed_at=(T0 - timedelta(hours=1)).isoformat(), **kw
    )
    return c.recorder.record(BetIn.model_validate(body), "key:t")[0].bet_id


def result(event: str, *positions: str, **kw: Any) -> EventResult:
    return EventResult.model_validate({"event": event, "date": DAY, "positions": list(positions), **kw})


def profile(c: wiring.Container, customer: str) -> tuple[int, int]:
    p = c.adapters.subjects.profile(SubjectRef.customer(customer))
    assert p is not None
    return p.settled_bets, p.profit_total_minor


def test_a_winning_single_settles_everywhere_it_shows(c: wiring.Container) -> None:
    bet_id = place(c, "C1", "10.00", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    other = place(c, "C1", "5.00", [sel("15:00 Ascot", "Blue Moon", "3.0")])
    [report] = c.settler.post_results([result("Ascot 14:30", "Sea Bird", "Blue Moon")])
    assert (report.bets, report.settled, report.settled_ids) == (1, 1, [bet_id])
    stored = c.settler.view(bet_id)
    assert stored is not None and stored.settlement is not None
    assert (stored.settlement.state, stored.settlement.returns_minor, stored.settlement.profit_minor) == (
        "settled", 5500, 4500,
    )  # fmt: skip
    untouched = c.settler.view(other)
    assert untouched is not None and untouched.settlement is None
    assert profile(c, "C1") == (1, 4500)
    windows = c.profiles.summary(SubjectRef.customer("C1")).windows
    assert (windows["24h"].bets, windows["24h"].settled_bets, windows["24h"].profit_minor) == (2, 1, 4500)
    rows, _, _ = c.feed.page(__import__("chalicelib.domain.feed", fromlist=["FeedFilter"]).FeedFilter(), 10)
    shown = {r.record_id: (r.bet_state, r.profit_minor) for r in rows}
    assert shown == {bet_id: ("settled", 4500), other: (None, None)}


def test_settling_twice_changes_nothing_and_a_correction_counts_the_difference(c: wiring.Container) -> None:
    bet_id = place(c, "C1", "10.00", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    first = result("14:30 Ascot", "Sea Bird", "Blue Moon")
    c.settler.post_results([first])
    [again] = c.settler.post_results([first])
    assert (again.settled, again.unchanged) == (0, 1)
    assert profile(c, "C1") == (1, 4500)
    # The stewards change the result: Sea Bird loses. The bet is re-settled, counted once.
    [fixed] = c.settler.post_results([result("14:30 Ascot", "Blue Moon", "Sea Bird")])
    assert (fixed.bets, fixed.settled) == (1, 1)
    stored = c.settler.view(bet_id)
    assert stored is not None and stored.settlement is not None and stored.settlement.profit_minor == -1000
    assert profile(c, "C1") == (1, -1000)
    c.settler.post_results([result("14:30 Ascot", "Blue Moon", "Sea Bird")])
    assert profile(c, "C1") == (1, -1000)


def test_a_double_waits_for_its_last_leg_unless_a_leg_lost(c: wiring.Container) -> None:
    double = place(c, "C2", "10.00", [sel("14:30 Ascot", "Sea Bird", "2.0"), sel("15:00 York", "Red Sky", "3.0")],
                   bet_type="double")  # fmt: skip
    lost = place(c, "C2", "10.00", [sel("14:30 Ascot", "Kauto", "2.0"), sel("15:00 York", "Red Sky", "3.0")],
                 bet_type="double")  # fmt: skip
    [first] = c.settler.post_results([result("14:30 Ascot", "Sea Bird", "Kauto")])
    assert (first.bets, first.settled, first.still_open, first.settled_ids) == (2, 1, 1, [lost])
    [second] = c.settler.post_results([result("15:00 York", "Red Sky")])
    assert (second.bets, second.settled, second.settled_ids) == (1, 1, [double])  # the lost double left the index
    stored = c.settler.view(double)
    assert stored is not None and stored.settlement is not None
    assert (stored.settlement.returns_minor, stored.settlement.profit_minor) == (6000, 5000)
    assert profile(c, "C2") == (2, 4000)


def test_a_result_of_an_earlier_day_does_not_settle_a_later_bet(c: wiring.Container) -> None:
    bet_id = place(c, "C3", "10.00", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    yesterday = (T0 - timedelta(days=1)).date().isoformat()
    old = EventResult.model_validate({"event": "14:30 Ascot", "date": yesterday, "positions": ["Sea Bird"]})
    [report] = c.settler.post_results([old])
    assert (report.bets, report.settled, report.still_open) == (1, 0, 1)
    stored = c.settler.view(bet_id)
    assert stored is not None and stored.settlement is None


def test_the_work_follows_the_bets_on_the_event(c: wiring.Container) -> None:
    for i in range(60):
        place(c, f"X{i}", "2.00", [sel(f"{10 + i // 4}:{15 * (i % 4):02d} Kempton", "Someone", "4.0")])
    mine = [place(c, "C4", "2.00", [sel("20:45 Wolverhampton", "Late Show", "4.0")]) for _ in range(3)]
    bets = c.adapters.bets
    assert isinstance(bets, memory.MemoryBets)
    reads: list[str] = []
    real_get = bets.get
    bets.get = lambda bet_id: (reads.append(bet_id), real_get(bet_id))[1]  # type: ignore[method-assign]
    [report] = c.settler.post_results([result("20:45 Wolverhampton", "Late Show")])
    assert report.settled == 3 and sorted(reads) == sorted(mine)


def test_a_writers_settled_pl_follows_its_slips(c: wiring.Container) -> None:
    bet_id = place(c, "C5", "10.00", [sel("14:30 Ascot", "Sea Bird", "3.0")])
    slips, subjects = c.adapters.slips, c.adapters.subjects
    assert isinstance(slips, memory.MemorySlips) and isinstance(subjects, memory.MemorySubjects)
    slips.items[bet_id] = SlipRecord(bet_id=bet_id, status=SlipStatus.clustered, object_key="k", writer_id="w-1",
                                     updated_at=T0.isoformat())  # fmt: skip
    stored = c.settler.view(bet_id)
    assert stored is not None
    with subjects.lock:
        subjects.count(SubjectRef.writer("w-1"), stored.bet, T0, has_slip=True)
    c.settler.post_results([result("14:30 Ascot", "Blue Moon", "Sea Bird")])
    writer = subjects.profile(SubjectRef.writer("w-1"))
    assert writer is not None and (writer.settled_bets, writer.profit_total_minor) == (1, -1000)
    assert c.profiles.summary(SubjectRef.writer("w-1")).windows["24h"].profit_minor == -1000


def test_a_settled_losing_run_fires_the_loss_rule(c: wiring.Container) -> None:
    spec = RuleSpec.model_validate({
        "name": "Lost £100 in 24 h", "subject_kind": "customer",
        "params": {"kind": "loss_window", "window_minutes": 1440, "threshold_minor": 10_000},
    })  # fmt: skip
    c.rules.create("loss_customer", spec, "user:admin")
    c.monitor.evaluate(T0)  # the recording's activity is evaluated: stakes alone never count as losses
    assert not [a for a in c.adapters.alerts.search(_query(), 50, None)[0] if a.rule_id == "loss_customer"]
    races = [f"1{h}:00 Newbury" for h in range(4)]
    for race in races:
        place(c, "C6", "30.00", [sel(race, "Also Ran", "6.0")])
    c.adapters.activity.set_checkpoint("evaluate-rules", T0)
    assert c.monitor.evaluate(T0) == []  # nothing settled yet
    c.settler.post_results([result(race, "Winner") for race in races])
    raised = c.monitor.evaluate(T0 + timedelta(minutes=5))
    assert [(a.rule_id, a.subject.id, a.metric.value) for a in raised] == [("loss_customer", "C6", 12_000)]


def test_beats_sp_counts_come_from_settled_legs(c: wiring.Container) -> None:
    spec = RuleSpec.model_validate({
        "name": "Beats the SP", "subject_kind": "customer",
        "params": {"kind": "beats_sp", "window_days": 30, "min_selections": 3, "min_share": 0.6},
    })  # fmt: skip
    c.rules.create("beats_sp_customer", spec, "user:admin")
    races = [f"1{h}:30 Sandown" for h in range(3)]
    for race in races:
        place(c, "C7", "5.00", [sel(race, "Steamer", "8.0")])
    c.adapters.activity.set_checkpoint("evaluate-rules", T0)
    c.settler.post_results([result(r, "Other", starting_prices={"Steamer": "4/1"}) for r in races])
    w = c.adapters.subjects.bets_between(SubjectRef.customer("C7"), T0 - timedelta(days=1), T0)
    assert [(b.sp_compared, b.sp_beaten) for b in w] == [(1, 1)] * 3
    raised = c.monitor.evaluate(T0 + timedelta(minutes=5))
    assert [(a.rule_id, a.metric.value) for a in raised] == [("beats_sp_customer", 1.0)]


def _query() -> Any:
    from chalicelib.ports import AlertQuery

    return AlertQuery(since=T0 - timedelta(days=1), until=T0 + timedelta(days=1))


# --- the API -------------------------------------------------------------------------------------


def test_post_results_settles_and_get_bet_shows_it(api: Api) -> None:
    body = bet_body(customer_id="C8", stake="10.00", selections=[sel("14:30 Ascot", "Sea Bird", "9/2")])
    r = api.post("/bets", body)
    assert r.status_code == 201, r.body
    bet_id = r.json_body["bet_id"]
    today = datetime.now(UTC).date().isoformat()
    res = {"event": "14:30 Ascot", "date": today, "positions": [["Sea Bird"], ["Blue Moon"]],
           "each_way": {"places": 3, "fraction": "1/4"}}  # fmt: skip
    staff = {**api.staff(), "content-type": "application/json"}
    assert api.c.http.post("/results", body=json.dumps(res), headers=api.ingest()).status_code == 403
    r = api.c.http.post("/results", body=json.dumps([res]), headers=staff)
    assert r.status_code == 200, r.body
    assert r.json_body["results"][0]["settled_ids"] == [bet_id]
    got = api.get(f"/bets/{bet_id}").json_body["settlement"]
    assert (got["state"], got["returns_minor"], got["profit_minor"]) == ("settled", 5500, 4500)
    again = api.c.http.post("/results", body=json.dumps(res), headers=staff).json_body["results"][0]
    assert (again["settled"], again["unchanged"]) == (0, 1)
    view = api.get("/customers/C8").json_body
    assert (view["settled_bets"], view["profit_total_minor"]) == (1, 4500)
    assert view["settled_windows"]["24h"] == {"settled_bets": 1, "profit_minor": 4500}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"event": "14:30 Ascot", "positions": []}, 422, "positions"),
        ({"event": "14:30 Ascot", "positions": ["A", "A"]}, 422, "positions"),
        ([{"event": "x", "positions": ["A"], "bogus": 1}], 422, "0.bogus"),
        ([], 422, None),
        ("not json", 400, None),
    ],
)
def test_bad_results_answer_a_4xx_and_settle_nothing(api: Api, body: Any, status: int, field: str | None) -> None:
    staff = {**api.staff(), "content-type": "application/json"}
    raw = body if isinstance(body, str) else json.dumps(body)
    r = api.c.http.post("/results", body=raw, headers=staff)
    assert r.status_code == status, r.body
    assert r.json_body["error"] in ("validation_error", "malformed_json")
    if field:
        assert r.json_body["details"][0]["field"].startswith(field), r.json_body


def _dropped(c: wiring.Container, name: str, data: bytes) -> str:
    from chalicelib.domain.imports import S3Notification

    key = f"imports/results/{name}"
    bucket = c.imports.limits.bucket
    c.adapters.files.write(bucket, key, data)
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
    c.imports.handle(S3Notification.model_validate({"Records": [record]}))
    return key


def test_a_results_file_dropped_in_the_bucket_settles_and_a_bad_one_is_refused(c: wiring.Container) -> None:
    bet_id = place(c, "C9", "10.00", [sel("14:30 Ascot", "Sea Bird", "5.5")])
    bad = _dropped(c, "bad.json", json.dumps({"event": "14:30 Ascot", "positions": [], "date": DAY}).encode())
    error = c.adapters.files.read_optional(c.imports.limits.bucket, bad.replace(".json", ".error.json"))
    assert error is not None and json.loads(error)["error"].startswith("positions:")
    stored = c.settler.view(bet_id)
    assert stored is not None and stored.settlement is None
    good = json.dumps([{"event": "14:30 Ascot", "date": DAY, "positions": ["Sea Bird"]}]).encode()
    _dropped(c, "ascot.json", good)
    _dropped(c, "ascot.json", good)  # the notification again: nothing twice
    assert profile(c, "C9") == (1, 4500)


def test_a_bet_settlement_does_not_model_stays_open_and_the_rest_settle(c: wiring.Container) -> None:
    odd = place(c, "C10", "10.00", [sel("14:30 Ascot", "Sea Bird", "3.0"), sel("14:30 Ascot", "Blue Moon", "4.0")],
                bet_type="forecast", each_way=True)  # fmt: skip
    fine = place(c, "C10", "10.00", [sel("14:30 Ascot", "Sea Bird", "3.0")])
    [report] = c.settler.post_results([result("14:30 Ascot", "Sea Bird", "Blue Moon")])
    assert (report.bets, report.settled, report.still_open, report.settled_ids) == (2, 1, 1, [fine])
    stored = c.settler.view(odd)
    assert stored is not None and stored.settlement is None
