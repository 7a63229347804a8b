"""Alert cases and the rule catalogue through the API (in-memory stores): the workflow with its
audit trail, illegal transitions (409), concurrent acknowledges (one wins), snoozes, filters and
cursor pagination; rules created, versioned, disabled, deleted — each change audited."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.domain.alerts import AlertStatus
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import Api, bet_body


def admin(api: Api) -> dict[str, str]:
    return {"x-api-key": api.admin_key, "content-type": "application/json"}


def post(api: Api, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    h = headers or {**api.staff(), "content-type": "application/json"}
    return api.c.http.post(path, body=json.dumps(body), headers=h)


def raise_alerts(api: Api, services: wiring.Container, customers: list[str], stake: str = "600.00") -> list[str]:
    placed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for c in customers:
        assert api.post("/bets", bet_body(customer_id=c, stake=stake, placed_at=placed)).status_code == 201
    return [a.alert_id for a in services.monitor.evaluate(datetime.now(UTC))]


def test_the_case_workflow_with_its_audit_trail(api: Api, services: wiring.Container) -> None:
    [alert_id] = raise_alerts(api, services, ["C9"])
    path = f"/alerts/{alert_id}"
    r = post(api, f"{path}/resolve", {"outcome": "false_positive"})
    assert r.status_code == 409 and r.json_body["error"] == "illegal_transition"  # open cannot be resolved
    r = post(api, f"{path}/acknowledge", {"note": "looking"})
    assert r.status_code == 200 and r.json_body["status"] == "acknowledged" and r.json_body["assignee"] == "user:alice"
    assert post(api, f"{path}/acknowledge", {}).status_code == 409
    assert post(api, f"{path}/notes", {"note": "called the shop"}).status_code == 200
    r = post(api, f"{path}/escalate", {"note": "for compliance"})
    assert r.json_body["status"] == "escalated"
    r = post(api, f"{path}/acknowledge", {"assignee": "bob"})
    assert r.json_body["assignee"] == "bob"
    r = post(api, f"{path}/resolve", {"outcome": "confirmed_risk", "note": "account restricted"})
    assert r.status_code == 200 and r.json_body["status"] == "resolved" and r.json_body["outcome"] == "confirmed_risk"
    events = api.get(path).json_body["events"]
    assert [e["action"] for e in events] == [
        "raised", "acknowledged", "noted", "escalated", "acknowledged", "resolved",
    ]  # fmt: skip
    assert all(e["actor"] == "user:alice" for e in events[1:]) and events[2]["note"] == "called the shop"
    assert post(api, f"{path}/escalate", {}).status_code == 409  # resolved is final
    assert post(api, f"{path}/resolve", {"outcome": "maybe"}).status_code == 422
    assert post(api, "/alerts/al-none/acknowledge", {}).status_code == 404
    ingest = {"x-api-key": api.ingest_key, "content-type": "application/json"}
    assert post(api, f"{path}/notes", {"note": "x"}, ingest).status_code == 403


def test_two_staff_acknowledging_at_once_one_wins(services: wiring.Container, api: Api) -> None:
    [alert_id] = raise_alerts(api, services, ["C9"])
    cases = services.alerts
    barrier = threading.Barrier(2)
    real_get = cases.alerts.get

    def get_together(aid: str) -> Any:
        found = real_get(aid)
        barrier.wait(timeout=5)  # both read "open" before either writes
        return found

    cases.alerts.get = get_together  # type: ignore[method-assign]
    outcomes: list[str] = []

    def ack(who: str) -> None:
        try:
            cases.act(alert_id, "acknowledged", who)
            outcomes.append(f"won:{who}")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=ack, args=(w,)) for w in ("user:a", "user:b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cases.alerts.get = real_get  # type: ignore[method-assign]
    assert sorted(o.split(":")[0] for o in outcomes) == ["Conflict", "won"]
    stored = cases.get(alert_id)
    assert stored.status is AlertStatus.acknowledged and [e.action for e in stored.events].count("acknowledged") == 1


def test_snoozing_a_subject_for_a_rule(api: Api, services: wiring.Container) -> None:
    [alert_id] = raise_alerts(api, services, ["C9"])
    assert post(api, f"/alerts/{alert_id}/snooze", {"hours": 0}).status_code == 422
    r = post(api, f"/alerts/{alert_id}/snooze", {"hours": 48, "note": "known high roller"})
    assert r.status_code == 200 and r.json_body["events"][-1]["action"] == "snoozed"
    until = services.adapters.alerts.snoozed_until("stake_window_customer", SubjectRef.customer("C9"))
    assert until is not None and until > datetime.now(UTC) + timedelta(hours=47)


def test_filters_and_cursor_pagination_return_each_alert_once(api: Api, services: wiring.Container) -> None:
    ids = raise_alerts(api, services, [f"K{i}" for i in range(5)])
    raise_alerts(api, services, ["BIG"], stake="2500.00")  # critical
    post(api, f"/alerts/{ids[0]}/acknowledge", {"assignee": "bob"})
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        q = "/alerts?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(q).json_body
        seen += [a["alert_id"] for a in page["alerts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6
    assert [a["alert_id"] for a in api.get("/alerts?assignee=bob").json_body["alerts"]] == [ids[0]]
    assert {a["status"] for a in api.get("/alerts?status=open").json_body["alerts"]} == {"open"}
    assert len(api.get("/alerts?status=open").json_body["alerts"]) == 5
    critical = api.get("/alerts?severity=critical").json_body["alerts"]
    assert [a["subject"]["id"] for a in critical] == ["BIG"]
    one = api.get("/alerts?subject_kind=customer&subject_id=K3").json_body["alerts"]
    assert [a["subject"]["id"] for a in one] == ["K3"]
    assert len(api.get("/alerts?rule_id=stake_window_customer").json_body["alerts"]) == 6
    assert api.get("/alerts?status=done").status_code == 400
    assert api.get("/alerts?cursor=%%%").status_code in (400, 422)


# --- rules ----------------------------------------------------------------------------------------

NEW_RULE = {
    "rule_id": "big_losses",
    "name": "Customer lost over £1,000 in 24 h",
    "subject_kind": "customer",
    "params": {"kind": "loss_window", "window_minutes": 1440, "threshold_minor": 100000},
}


def test_rules_are_seeded_and_readable_by_staff(api: Api) -> None:
    rules = {r["rule_id"]: r for r in api.get("/rules").json_body["rules"]}
    assert set(rules) == {
        "stake_window_customer", "stake_window_writer", "velocity_customer",
        "structuring_customer", "structuring_writer", "harm_screen_customer", "self_excluded_customer",
    }  # fmt: skip
    assert rules["velocity_customer"]["params"] == {"kind": "bet_count", "window_seconds": 60, "count": 10}
    assert api.get("/rules/velocity_customer/audit").json_body["events"][0]["action"] == "seeded"


def test_rule_lifecycle_audited(api: Api, services: wiring.Container) -> None:
    assert post(api, "/rules", NEW_RULE).status_code == 403  # staff may not change rules
    r = post(api, "/rules", NEW_RULE, admin(api))
    assert r.status_code == 201 and r.json_body["version"] == 1 and r.json_body["updated_by"].startswith("key:")
    assert post(api, "/rules", NEW_RULE, admin(api)).status_code == 409
    changed = {k: v for k, v in NEW_RULE.items() if k != "rule_id"} | {"mode": "shadow"}
    put = api.c.http.put("/rules/big_losses", body=json.dumps(changed), headers=admin(api))
    assert put.status_code == 200 and put.json_body["version"] == 2 and put.json_body["mode"] == "shadow"
    stale = api.c.http.put("/rules/big_losses?expected_version=1", body=json.dumps(changed), headers=admin(api))
    assert stale.status_code == 409
    assert api.c.http.post("/rules/big_losses/disable", headers=admin(api)).json_body["enabled"] is False
    assert "big_losses" not in {r.rule_id for r in services.rules.enabled()}
    versions = api.get("/rules/big_losses/versions").json_body["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert api.c.http.delete("/rules/big_losses", headers=admin(api)).status_code == 204
    assert api.get("/rules/big_losses").status_code == 404
    audit = api.get("/rules/big_losses/audit").json_body["events"]
    assert [e["action"] for e in audit] == ["created", "updated", "disabled", "deleted"]
    assert audit[1]["before"]["mode"] == "active" and audit[1]["after"]["mode"] == "shadow"


BAD_RULES: list[tuple[dict[str, Any], str]] = [
    (NEW_RULE | {"params": {"kind": "loss_window", "threshold_minor": 0}}, "params.loss_window.threshold_minor"),
    (NEW_RULE | {"params": {"kind": "teleport"}}, "params"),
    (NEW_RULE | {"rule_id": "Bad Id"}, "rule_id"),
    (NEW_RULE | {"subject_kind": "selection"}, "subject_kind"),
    (NEW_RULE | {"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD_RULES, ids=[f for _, f in BAD_RULES])
def test_bad_rules_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    r = post(api, "/rules", body, admin(api))
    assert r.status_code == 422, r.body
    assert any(d["field"].startswith(field.split(".")[0]) for d in r.json_body["details"]), r.json_body


def test_backtest_reports_hits_and_writes_nothing(api: Api, services: wiring.Container) -> None:
    now = datetime.now(UTC)
    # C1: £300 + £250 two days ago (a hit), £600 today (another, after the 24 h cooldown); C2 small.
    for customer, stake, ago in [("C1", "300.00", 50), ("C1", "250.00", 49), ("C1", "600.00", 2), ("C2", "5.00", 30)]:
        body = bet_body(customer_id=customer, stake=stake, placed_at=(now - timedelta(hours=ago)).isoformat())
        assert api.post("/bets", body).status_code == 201
    before = len(services.adapters.alerts.items)  # type: ignore[attr-defined]
    r = api.c.http.post("/rules/stake_window_customer/backtest?days=3", headers=admin(api))
    assert r.status_code == 200, r.body
    report = r.json_body
    assert report["subjects_evaluated"] == 2 and report["bets_replayed"] == 4 and report["hits_total"] == 2
    assert [h["subject"]["id"] for h in report["hits"]] == ["C1", "C1"] and report["truncated"] is False
    assert len(services.adapters.alerts.items) == before  # type: ignore[attr-defined]
    draft = {"name": "tiny", "subject_kind": "customer", "params": {"kind": "stake_window", "threshold_minor": 400}}
    r = api.c.http.post("/rules/backtest?days=2", body=json.dumps(draft), headers=admin(api))
    assert r.status_code == 200 and r.json_body["hits_total"] == 2  # C1 once (cooldown), C2 once
    assert api.c.http.post("/rules/stake_window_customer/backtest?days=40", headers=admin(api)).status_code == 400
    run = draft | {"params": {"kind": "bet_run"}}
    assert api.c.http.post("/rules/backtest", body=json.dumps(run), headers=admin(api)).status_code == 422
    assert api.c.http.post("/rules/nope/backtest", headers=admin(api)).status_code == 404
    staff = {**api.staff(), "content-type": "application/json"}
    assert api.c.http.post("/rules/stake_window_customer/backtest", headers=staff).status_code == 403


def test_days_counts_calendar_days_from_midnight_utc() -> None:
    """days=1 is today since 00:00 UTC, not "since now" (a store comparing instants found nothing)."""
    from chalicelib.api.routes.alerts import AlertSearch, day_start

    for days in (1, 7, 31):
        q = AlertSearch(days=days).query()
        assert q.since is not None and q.until is not None
        assert q.since == day_start(q.since) and q.since.tzinfo is not None
        assert (day_start(q.until) - q.since).days == days - 1


def test_the_open_alert_count_follows_the_workflow_and_stops_at_its_cap(
    api: Api, services: wiring.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.get("/alerts/count").json_body == {"status": "open", "count": 0, "capped": False, "cap": 99}
    ids = raise_alerts(api, services, ["N1", "N2", "N3"])
    assert api.get("/alerts/count?status=open").json_body["count"] == 3
    assert post(api, f"/alerts/{ids[0]}/acknowledge", {}).status_code == 200
    assert api.get("/alerts/count?status=open").json_body["count"] == 2
    assert api.get("/alerts/count?status=acknowledged").json_body["count"] == 1
    monkeypatch.setattr("chalicelib.services.alerts.COUNT_CAP", 1)
    capped = api.get("/alerts/count").json_body
    assert (capped["count"], capped["capped"]) == (1, True)  # "1+": never a count past the cap
    bad = api.get("/alerts/count?status=maybe")
    assert bad.status_code == 400 and bad.json_body["error"] and bad.json_body["details"][0]["field"] == "query.status"
    assert api.get("/alerts/count?limit=5").status_code == 400  # unknown parameters refused
    assert api.get("/alerts/count", headers={"x-api-key": api.ingest_key}).status_code == 403
