"""The daily report's figures match the stored bets; it renders as HTML with inline SVG charts and as
CSV; the schedule writes it to the reports bucket; a customer's report covers its bets and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import wiring
from chalicelib.adapters import memory
from tests.helpers import Api, bet_body


def test_daily_report_figures_match_the_bets(api: Api, services: wiring.Container) -> None:
    stakes = {"R1": ["10.00", "20.00"], "R2": ["600.00"], None: ["5.00"]}
    for customer, ss in stakes.items():
        for s in ss:
            r = api.post(
                "/bets", bet_body(customer_id=customer, stake=s, sport="football" if s == "5.00" else "horse_racing")
            )
            assert r.status_code == 201
    online = api.post("/bets", bet_body(customer_id="R1", stake="1.00", channel="online", shop_id=None))
    assert online.status_code == 201
    services.monitor.run(datetime.now(UTC))
    api.c.http.put(
        "/customers/R2/category",
        body='{"category": "vip", "reason": "known"}',
        headers={**api.staff(), "content-type": "application/json"},
    )
    r = api.get("/reports/daily").json_body
    stored = services.adapters.bets.items  # type: ignore[attr-defined]
    assert r["totals"]["bets"] == len(stored) == 5
    assert r["totals"]["stake_minor"] == sum(b.bet.stake_minor for b in stored.values()) == 63_600
    assert r["totals"]["avg_stake_minor"] == 63_600 // 5
    assert sum(r["bets_per_hour"]) == 5
    assert {c["key"]: c["bets"] for c in r["by_sport"]} == {"horse_racing": 4, "football": 1}
    assert {c["key"]: c["bets"] for c in r["by_channel"]} == {"retail": 4, "online": 1}
    assert r["top_customers_by_stake"][0] == {"key": "R2", "bets": 1, "stake_minor": 60_000, "knockbacks": 0}
    assert r["clients_by_category"] == {"none": 1, "vip": 1}
    assert {a["rule_id"]: a["raised"] for a in r["alerts_by_rule"]} == {"stake_window_customer": 1}
    day = datetime.now(UTC).date().isoformat()
    html = api.get(f"/reports/daily/{day}/html")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    page = html.body.decode()
    assert "<svg" in page and "Bets per hour" in page
    assert "src=" not in page and "href=" not in page and "http" not in page  # renders with no network
    csv = api.get(f"/reports/daily/{day}/csv").body.decode()
    assert csv.splitlines()[1] == f"totals,{day},5,63600,0"
    assert api.get("/reports/daily/2026-13-01/html").status_code == 400
    assert api.get("/reports/daily?date=nope").status_code == 400


def test_the_schedule_writes_reports_to_the_bucket(api: Api, services: wiring.Container) -> None:
    api.post("/bets", bet_body(stake="12.00"))
    assert services.reports.run_schedule()["today_bets"] == 1
    files = services.adapters.files
    assert isinstance(files, memory.MemoryFiles)
    day = datetime.now(UTC).date().isoformat()
    bucket = services.settings.bucket("reports")
    assert {k for b, k in files.objects if b == bucket} >= {
        f"daily/{day}.html",
        f"daily/{day}.csv",
        f"daily/{day}.json",
    }
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    # Tomorrow's report compares with the days of this week written before it.
    tomorrow = services.reports.daily(datetime.now(UTC).date() + timedelta(days=1))
    if datetime.now(UTC).weekday() < 6:
        assert tomorrow.this_week_daily_avg is not None and tomorrow.this_week_daily_avg.bets >= 0
    assert yesterday.isoformat() < day


def test_customer_report(api: Api, services: wiring.Container) -> None:
    for s in ("300.00", "250.00"):
        api.post("/bets", bet_body(customer_id="CR", stake=s))
    services.monitor.run(datetime.now(UTC))
    r = api.get("/reports/customers/CR?days=7").json_body
    assert r["totals"]["bets"] == 2 and r["totals"]["stake_minor"] == 55_000
    assert [a["rule_id"] for a in r["alerts"]] == ["stake_window_customer"]
    assert sum(r["bets_per_day"].values()) == 2
    assert "<svg" in api.get("/reports/customers/CR/html?days=7").body.decode()
    assert api.get("/reports/customers/CR?days=99").status_code == 400
