"""What the API answers is right (issue 11): an each-way bet says so, potential returns are there,
a customer's profile lists its slips, first_bet_at is the earliest placed, one time format."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np

from chalicelib import wiring
from tests.helpers import Api, bet_body, recent_noon

NOON = recent_noon()  # daytime, 1-20 h ago: rules at the real clock see its bets
ONE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _bet(api: Api, **kw: Any) -> dict[str, Any]:
    r = api.post("/bets", bet_body(**{"placed_at": NOON.isoformat(), **kw}))
    assert r.status_code == 201, r.body
    return dict(api.get(f"/bets/{r.json_body['bet_id']}").json_body)


def test_an_each_way_bet_says_each_way_and_has_a_potential_return(api: Api) -> None:
    ew = _bet(api, bet_type="each_way", stake="25.00")
    assert ew["each_way"] is True and ew["lines"] == 2
    # £12.50 win at 5/2 (£43.75) + £12.50 place at a quarter the odds (£20.31): if it wins.
    assert ew["potential_return_minor"] == 6406
    single = _bet(api, bet_type="single", stake="10.00")
    assert single["each_way"] is False and single["potential_return_minor"] == 3500  # 5/2: 10 × 3.5


def test_first_bet_at_is_the_earliest_placed_not_the_first_received(api: Api) -> None:
    _bet(api, customer_id="C55", placed_at=NOON.isoformat())
    _bet(api, customer_id="C55", placed_at=(NOON - timedelta(hours=30)).isoformat())  # a till back online
    _bet(api, customer_id="C55", placed_at=(NOON - timedelta(hours=2)).isoformat())
    cust = api.get("/customers/C55").json_body
    assert cust["first_bet_at"] == (NOON - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_customers_profile_lists_its_slips(api: Api, services: wiring.Container) -> None:
    bet_id = _bet(api, customer_id="C77")["bet_id"]
    key = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"}).json_body["object_key"]
    vec = np.zeros(48)
    vec[0] = 1.0
    assert services.adapters.slips.mark_embedded(bet_id, key, list(vec), "m", None, NOON)
    msg = services.adapters.slips.clustering_message(bet_id)
    assert msg is not None
    writer_id, _ = services.clusterer().assign(msg)
    assert api.get(f"/writers/{writer_id}").json_body["slips"] == [bet_id]
    assert api.get("/customers/C77").json_body["slips"] == [bet_id]


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_every_time_in_every_answer_is_rfc3339_with_z(api: Api, services: wiring.Container) -> None:
    bet = _bet(api, customer_id="C9", stake="300.00")
    _bet(api, customer_id="C9", stake="250.00", placed_at=(NOON + timedelta(minutes=5)).isoformat())
    services.monitor.evaluate(NOON + timedelta(minutes=10))
    answers = [
        bet,
        api.get("/customers/C9").json_body,
        api.get("/alerts?days=2").json_body,
        api.get("/rules").json_body,
        api.post("/bets", bet_body(placed_at=(NOON + timedelta(minutes=1)).isoformat())).json_body,
    ]
    alert_ids = [a["alert_id"] for a in answers[2]["alerts"]]
    assert alert_ids, answers[2]
    answers.append(api.get(f"/alerts/{alert_ids[0]}").json_body)
    times = [s for a in answers for s in _strings(a) if LOOKS_LIKE_TIME.match(s)]
    assert len(times) >= 8
    assert [t for t in times if not ONE_FORMAT.fullmatch(t)] == []
