"""The HTTP API through chalice.test.Client on moto: auth, bets, idempotency, bad input, docs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from tests.helpers import JWT_SECRET, Api, bet_body, make_api


@pytest.fixture
def api(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    from chalicelib import auth, config

    monkeypatch.setenv("BETWATCH_JWT_SECRET", JWT_SECRET)
    config.reset()
    auth.clear_cache()
    import app as app_module

    with Client(app_module.app) as client:
        yield make_api(client)


def _count(table_logical: str) -> int:
    from chalicelib import aws
    from chalicelib.config import settings

    # Tests may Scan to prove nothing was written; the app never does.
    return int(aws.client("dynamodb").scan(TableName=settings().table(table_logical), Select="COUNT")["Count"])


def test_health_is_public_and_reports_model_and_tables(api: Api) -> None:
    r = api.get("/health", headers={})
    assert r.status_code == 200
    assert r.json_body["model_loaded"] is True and r.json_body["tables_reachable"] is True


def test_credentials_and_roles(api: Api) -> None:
    assert api.c.http.post("/bets", body=json.dumps(bet_body())).status_code == 401
    assert api.get("/alerts", headers={"x-api-key": "bw_wrong"}).status_code == 401
    assert api.get("/alerts", headers={"authorization": "Bearer not.a.jwt"}).status_code == 401
    # staff may read but not ingest; an ingest key may not read customers or alerts
    staff_post = api.c.http.post(
        "/bets", body=json.dumps(bet_body()), headers={**api.staff(), "content-type": "application/json"}
    )
    assert staff_post.status_code == 403
    assert api.get("/customers/C100", headers={"x-api-key": api.ingest_key}).status_code == 403
    assert api.get("/alerts", headers={"x-api-key": api.ingest_key}).status_code == 403
    assert api.get("/alerts").status_code == 200
    assert api.get("/alerts", headers={"x-api-key": api.admin_key}).status_code == 200
    bad_login = api.c.http.post(
        "/auth/login",
        body=json.dumps({"username": "alice", "password": "nope"}),
        headers={"content-type": "application/json"},
    )
    assert bad_login.status_code == 401


def test_post_bet_scores_stores_and_updates_customer(api: Api) -> None:
    r = api.post("/bets", bet_body(stake="12.50"))
    assert r.status_code == 201, r.body
    bet = r.json_body
    assert bet["stake_minor"] == 1250 and bet["currency"] == "GBP"
    assert 0 <= bet["risk"]["score"] <= 100 and bet["risk"]["level"] in ("low", "medium", "high", "critical")
    assert isinstance(bet["risk"]["signals"], list) and bet["risk"]["recommendation"]

    got = api.get(f"/bets/{bet['bet_id']}").json_body
    assert got["stake_minor"] == 1250 and got["selections"][0]["decimal_odds"] == 3.5
    assert got["placed_at"].endswith("Z") or got["placed_at"].endswith("+00:00")
    assert got["potential_return_minor"] == 4375

    api.post("/bets", bet_body(stake="7.50", selections=[{"event": "e", "selection": "x", "price": "SP"}]))
    cust = api.get("/customers/C100").json_body
    assert cust["bets_total"] == 2 and cust["stake_total_minor"] == 2000
    assert cust["windows"]["24h"] == {"bets": 2, "stake_minor": 2000}
    assert api.get("/customers/NOBODY").status_code == 404
    assert api.get("/bets/nope").status_code == 404


def test_anonymous_retail_bet_has_no_customer_records(api: Api) -> None:
    r = api.post("/bets", bet_body(customer_id=None))
    assert r.status_code == 201
    assert _count("subjects") == 0


def test_retries_return_the_same_bet(api: Api) -> None:
    body = bet_body()
    first = api.post("/bets", body, {"idempotency-key": "till-7-txn-991"})
    again = api.post("/bets", body, {"idempotency-key": "till-7-txn-991"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json_body["bet_id"] == again.json_body["bet_id"] and again.json_body["replayed"] is True
    own_id = bet_body(bet_id="TILL7-000123")
    with_id = api.post("/bets", own_id)
    assert with_id.status_code == 201 and with_id.json_body["bet_id"] == "TILL7-000123"
    assert api.post("/bets", own_id).status_code == 200
    conflict = api.post("/bets", own_id | {"stake": "99.00"})
    assert conflict.status_code == 409 and "different details" in conflict.json_body["message"]
    assert api.get("/customers/C100").json_body["bets_total"] == 2


BAD: list[tuple[str, Any, int, str]] = [
    ("malformed json", '{"stake": 10,', 400, "not valid JSON"),
    ("not an object", "[1, 2]", 422, "JSON object"),
    ("unknown field", bet_body(colour="red"), 422, "colour"),
    ("missing field", {k: v for k, v in bet_body().items() if k != "stake"}, 422, "stake"),
    ("zero stake", bet_body(stake="0"), 422, "stake"),
    ("negative stake", bet_body(stake=-5), 422, "stake"),
    ("three decimals", bet_body(stake="10.005"), 422, "2 decimal places"),
    ("three decimals as a number", '{"stake": 10.005}', 422, "stake"),
    ("odds below 1.01", bet_body(selections=[{"event": "e", "selection": "x", "price": 1.0}]), 422, "1.01"),
    ("bad fractional odds", bet_body(selections=[{"event": "e", "selection": "x", "price": "5/0"}]), 422, "price"),
    ("naive time", bet_body(placed_at="2026-01-01T10:00:00"), 422, "placed_at"),
    ("future time", bet_body(placed_at="2999-01-01T10:00:00Z"), 422, "future"),
    ("wrong selection count", bet_body(bet_type="double"), 422, "selections"),
    ("retail without shop", bet_body(shop_id=None), 422, "shop_id"),
    ("unsupported currency", bet_body(currency="JPY"), 422, "currency"),
    ("other deployment currency", bet_body(currency="EUR"), 422, "currency"),
    ("oversized body", bet_body(sport="x" * 100) | {"pad": "y" * 70_000}, 413, "limit"),
    ("empty body", "", 400, "empty"),
]


@pytest.mark.parametrize(("case", "body", "status", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api: Api, case: str, body: Any, status: int, needle: str) -> None:
    if case == "three decimals as a number":
        body = json.dumps(bet_body()).replace('"stake": "20.00"', '"stake": 10.005')
    r = api.post("/bets", body)
    assert r.status_code == status, (case, r.body)
    assert r.json_body["error"] and needle.lower() in json.dumps(r.json_body).lower(), r.json_body
    assert _count("bets") == 0 and _count("subjects") == 0 and _count("monitoring") == 0


def test_field_is_named_in_details(api: Api) -> None:
    r = api.post("/bets", bet_body(selections=[{"event": "e", "selection": "x", "price": "abc"}]))
    assert r.status_code == 422
    assert r.json_body["details"][0]["field"] == "selections.0.price"


def test_slip_presign_is_bounded(api: Api) -> None:
    bet_id = api.post("/bets", bet_body()).json_body["bet_id"]
    r = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"})
    assert r.status_code == 201, r.body
    post = r.json_body
    assert post["object_key"].startswith(f"slips/{bet_id}/") and "policy" in {k.lower() for k in post["fields"]}
    policy = json.loads(__import__("base64").b64decode(post["fields"]["policy"]))
    assert ["content-length-range", 1024, post["max_bytes"]] in policy["conditions"]
    status = api.get(f"/bets/{bet_id}/slip").json_body
    assert status["status"] == "awaiting_upload"
    assert api.post("/bets/none/slip", {"content_type": "image/jpeg"}).status_code == 404
    assert api.post(f"/bets/{bet_id}/slip", {"content_type": "application/pdf"}).status_code == 422


def test_openapi_is_generated_from_the_models(api: Api) -> None:
    doc = api.get("/openapi.json", headers={}).json_body
    assert doc["openapi"].startswith("3.")
    assert "BetIn" in doc["components"]["schemas"] and "RiskAssessment" in doc["components"]["schemas"]
    post = doc["paths"]["/bets"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BetIn")
    assert {"201", "401", "403", "422"} <= set(post["responses"])
    assert "/writers/{writer_id}" in doc["paths"] and "/alerts" in doc["paths"]
    html = api.get("/docs", headers={})
    assert html.status_code == 200 and b"openapi.json" in html.body


def test_alert_query_parameters_are_checked(api: Api) -> None:
    r = api.get("/alerts?days=400")
    assert r.status_code == 400 and "days" in r.json_body["message"]
    assert api.get("/alerts?days=2&limit=5").status_code == 200
