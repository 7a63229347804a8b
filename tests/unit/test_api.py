"""The HTTP API through chalice.test.Client over in-memory stores: auth and roles, bets,
idempotency, bad input (a clear 4xx that writes nothing), alerts by id, the generated docs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import Api, bet_body


def _stored(c: wiring.Container) -> tuple[int, int]:
    bets = c.adapters.bets
    subjects = c.adapters.subjects
    assert isinstance(bets, memory.MemoryBets) and isinstance(subjects, memory.MemorySubjects)
    return len(bets.items), sum(len(v) for v in subjects.bets.values())


def test_health_is_public(api: Api) -> None:
    r = api.get("/health", headers={})
    assert r.status_code == 200 and r.json_body["status"] == "ok"


def test_health_degraded_answers_503(api: Api, services: wiring.Container) -> None:
    services.adapters.health = memory.MemoryHealth({"bets": "ResourceNotFoundException"})
    services.health.probe = services.adapters.health
    r = api.get("/health", headers={})
    assert r.status_code == 503 and r.json_body["detail"] == {"bets": "ResourceNotFoundException"}


def test_credentials_and_roles(api: Api) -> None:
    assert api.c.http.post("/bets", body=json.dumps(bet_body())).status_code == 401
    assert api.get("/alerts", headers={"x-api-key": "bw_wrong"}).status_code == 401
    assert api.get("/alerts", headers={"authorization": "Bearer not.a.jwt"}).status_code == 401
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
    assert bad_login.status_code == 401 and bad_login.json_body["error"] == "invalid_credentials"


def test_post_bet_scores_stores_and_updates_customer(api: Api) -> None:
    r = api.post("/bets", bet_body(stake="12.50"))
    assert r.status_code == 201, r.body
    bet = r.json_body
    assert bet["stake_minor"] == 1250 and bet["currency"] == "GBP" and bet["replayed"] is False
    assert r.headers["Location"] == f"/bets/{bet['bet_id']}"
    got = api.get(f"/bets/{bet['bet_id']}").json_body
    assert got["stake_minor"] == 1250 and got["selections"][0]["decimal_odds"] == 3.5
    assert got["potential_return_minor"] == 4375 and got["ingested_by"].startswith("key:")
    api.post("/bets", bet_body(stake="7.50", selections=[{"event": "e", "selection": "x", "price": "SP"}]))
    cust = api.get("/customers/C100").json_body
    assert cust["bets_total"] == 2 and cust["stake_total_minor"] == 2000 and cust["kind"] == "customer"
    assert cust["windows"]["24h"] == {"bets": 2, "stake_minor": 2000}
    assert api.get("/customers/NOBODY").status_code == 404
    assert api.get("/writers/w-nobody").status_code == 404
    assert api.get("/bets/nope").status_code == 404


def test_anonymous_retail_bet_has_no_customer_records(api: Api, services: wiring.Container) -> None:
    assert api.post("/bets", bet_body(customer_id=None)).status_code == 201
    assert _stored(services) == (1, 0)


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
    too_long = api.post("/bets", body, {"idempotency-key": "k" * 201})
    assert too_long.status_code == 400 and too_long.json_body["error"] == "invalid_idempotency_key"


BAD: list[tuple[str, Any, int, str]] = [
    ("malformed json", '{"stake": 10,', 400, "not valid JSON"),
    ("not an object", "[1, 2]", 422, "JSON object"),
    ("unknown field", bet_body(colour="red"), 422, "colour"),
    ("missing field", {k: v for k, v in bet_body().items() if k != "stake"}, 422, "stake"),
    ("zero stake", bet_body(stake="0"), 422, "stake"),
    ("negative stake", bet_body(stake=-5), 422, "stake"),
    ("three decimals", bet_body(stake="10.005"), 422, "2 decimal places"),
    ("odds of 1.0", bet_body(selections=[{"event": "e", "selection": "x", "price": 1.0}]), 422, "above 1.0"),
    ("bad fractional odds", bet_body(selections=[{"event": "e", "selection": "x", "price": "5/0"}]), 422, "price"),
    ("naive time", bet_body(placed_at="2026-01-01T10:00:00"), 422, "placed_at"),
    ("future time", bet_body(placed_at="2999-01-01T10:00:00Z"), 422, "future"),
    ("wrong selection count", bet_body(bet_type="double"), 422, "selections"),
    ("retail without shop", bet_body(shop_id=None), 422, "shop_id"),
    ("unsupported currency", bet_body(currency="JPY"), 422, "currency"),
    ("other deployment currency", bet_body(currency="EUR"), 422, "currency"),
    ("oversized body", bet_body(sport="x" * 100) | {"pad": "y" * 70_000}, 413, "limit"),
    ("empty body", "", 400, "empty"),
    ("duplicate key", '{"stake": "5.00", "stake": "9999.00"}', 400, "repeats the key"),
    ("deep nesting", "[" * 5000 + "]" * 5000, 400, "json"),
]


@pytest.mark.parametrize(("case", "body", "status", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_4xx_and_writes_nothing(
    api: Api, services: wiring.Container, case: str, body: Any, status: int, needle: str
) -> None:
    r = api.post("/bets", body)
    assert r.status_code == status, (case, r.body)
    assert r.json_body["error"] and needle.lower() in json.dumps(r.json_body).lower(), r.json_body
    assert _stored(services) == (0, 0)


def test_json_content_type_is_required(api: Api, services: wiring.Container) -> None:
    for headers in ({"content-type": "text/plain"}, {"content-type": ""}):
        r = api.c.http.post("/bets", body=json.dumps(bet_body()), headers={"x-api-key": api.ingest_key, **headers})
        assert r.status_code == 415 and r.json_body["error"] == "unsupported_media_type", r.body
    assert _stored(services) == (0, 0)


def test_field_is_named_in_details(api: Api) -> None:
    r = api.post("/bets", bet_body(selections=[{"event": "e", "selection": "x", "price": "abc"}]))
    assert r.status_code == 422
    assert r.json_body["details"][0]["field"] == "selections.0.price"


def test_slip_presign_names_its_limits(api: Api) -> None:
    bet_id = api.post("/bets", bet_body()).json_body["bet_id"]
    r = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"})
    assert r.status_code == 201, r.body
    assert r.json_body["object_key"].startswith(f"slips/{bet_id}/") and r.json_body["max_bytes"] == 8 * 1024 * 1024
    assert api.get(f"/bets/{bet_id}/slip").json_body["status"] == "awaiting_upload"
    assert api.post("/bets/none/slip", {"content_type": "image/jpeg"}).status_code == 404
    assert api.post(f"/bets/{bet_id}/slip", {"content_type": "application/pdf"}).status_code == 422
    assert api.get("/bets/none/slip").status_code == 404


def test_alert_by_id_with_metric_evidence_and_events(api: Api, services: wiring.Container) -> None:
    placed = datetime.now(UTC) - timedelta(hours=1)
    ids = [
        api.post(
            "/bets", bet_body(customer_id="C9", stake=s, placed_at=(placed + timedelta(minutes=i)).isoformat())
        ).json_body["bet_id"]
        for i, s in enumerate(["300.00", "250.00"])
    ]
    raised = services.monitor.evaluate(datetime.now(UTC))
    assert len(raised) == 1
    alert = api.get(f"/alerts/{raised[0].alert_id}").json_body
    assert alert["rule_id"] == "stake_window_customer" and alert["rule_version"] == 1
    assert alert["subject"] == {"kind": "customer", "id": "C9"} and alert["status"] == "open"
    assert alert["metric"] == {"name": "stake_total", "value": 55000.0, "threshold": 50000.0, "unit": "minor_units"}
    assert alert["evidence"]["bet_ids"] == ids and alert["evidence"]["shops"] == ["S01"]
    assert [e["action"] for e in alert["events"]] == ["raised"]
    listed = api.get("/alerts?days=1").json_body["alerts"]
    assert [a["alert_id"] for a in listed] == [raised[0].alert_id]
    assert api.get("/alerts/al-nope").status_code == 404
    assert SubjectRef.customer("C9") == raised[0].subject


def test_alert_query_parameters_are_checked(api: Api) -> None:
    for bad in ("days=400", "days=", "limit=0", "days=two"):
        r = api.get(f"/alerts?{bad}")
        assert r.status_code == 400 and r.json_body["error"] == "invalid_parameter", (bad, r.body)
        assert bad.split("=")[0] in r.json_body["message"]
    assert api.get("/alerts?days=2&limit=5").status_code == 200


def test_openapi_is_generated_from_the_models(api: Api) -> None:
    doc = api.get("/openapi.json", headers={}).json_body
    assert doc["openapi"].startswith("3.")
    assert {"BetIn", "RiskAssessment", "Alert", "ErrorBody"} <= set(doc["components"]["schemas"])
    post = doc["paths"]["/bets"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BetIn")
    assert {"200", "201", "401", "403", "415", "422", "503"} <= set(post["responses"])
    alerts = doc["paths"]["/alerts"]["get"]
    days = next(p for p in alerts["parameters"] if p["name"] == "days")
    assert days["schema"]["maximum"] == 31 and "400" in alerts["responses"]
    assert "/alerts/{alert_id}" in doc["paths"] and "/writers/{writer_id}" in doc["paths"]
    assert {"200", "503"} <= set(doc["paths"]["/health"]["get"]["responses"])
    html = api.get("/docs", headers={})
    assert html.status_code == 200 and b"openapi.json" in html.body


def test_presign_post_fields_are_what_the_store_signed(api: Api) -> None:
    bet_id = api.post("/bets", bet_body()).json_body["bet_id"]
    fields = api.post(f"/bets/{bet_id}/slip", {}).json_body["fields"]
    assert fields["Content-Type"] == "image/jpeg" and base64  # the real policy is checked on moto
