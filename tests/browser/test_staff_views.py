"""The staff app's working views in a real Chromium against the real stack: a bet posted after the
live feed loaded appears in it (and is announced); filters narrow the feed; an alert worked as a
case (acknowledged, then resolved with an outcome); a writer's slip thumbnails from the bucket and a
candidate link confirmed (the merge job runs); a customer's category set and shown in the feed;
the daily report with its charts; the rule catalogue toggled by an admin (and read-only for staff).
Each page is saved as a screenshot under tests/browser/artifacts/."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import requests

from tests.browser.conftest import Page
from tests.browser.stack import ADMIN_PASSWORD, ADMIN_USER, ALERT_CUSTOMER, Day, Stack


def _heading(page: Page, name: str | re.Pattern[str]) -> None:
    page.p.get_by_role("heading", level=1, name=name).wait_for()


def _api(stack: Stack) -> requests.Session:
    s = requests.Session()
    s.headers["x-api-key"] = stack.admin_key()
    return s


def _till(stack: Stack) -> requests.Session:
    s = requests.Session()
    key = _api(stack).post(stack.url + "/admin/api-keys", json={"name": "feed-till", "role": "ingest"}, timeout=30)
    assert key.status_code == 201, key.text
    s.headers["x-api-key"] = key.json()["api_key"]
    return s


def _post_bet(stack: Stack, till: requests.Session, selection: str, customer: str | None = None) -> str:
    body: dict[str, Any] = {
        "shop_id": "S07",
        "channel": "retail",
        "stake": "12.50",
        "currency": "GBP",
        "bet_type": "single",
        "selections": [{"event": "15:10 Kempton", "market": "win", "selection": selection, "price": "7/2"}],
        "sport": "horse_racing",
        "placed_at": datetime.now(UTC).isoformat(),
    }
    if customer:
        body["customer_id"] = customer
    r = till.post(stack.url + "/bets", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["bet_id"])


def test_a_bet_posted_after_the_feed_loaded_appears_in_it(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.get_by_role("navigation", name="Main").get_by_role("link", name="Live feed").click()
    _heading(page, "Live feed")
    rows = p.locator("#feed-table tbody tr")
    before = rows.count()
    assert before >= 8, before  # the day's bets, newest first
    assert p.locator(".summary").inner_text().startswith(f"{before} records shown")
    page.shot("feed")

    till = _till(stack)
    bet_id = _post_bet(stack, till, "Kauto Star")
    row = p.locator("#feed-table tbody tr", has=p.get_by_role("link", name=bet_id))
    row.wait_for(timeout=20_000)  # the next poll (every 5 s) brings it
    assert rows.first.get_attribute("data-cursor") == row.get_attribute("data-cursor")  # on top
    assert rows.count() == before + 1
    text = row.inner_text()
    assert "Kauto Star" in text and "£12.50" in text and "S07" in text and "new" in text
    assert re.match(r"1 new record at ", p.locator(".summary").inner_text())
    page.shot("feed-new-bet")

    # Filters: one customer's bets only; the address remembers them.
    p.get_by_label("Customer").fill(ALERT_CUSTOMER)
    p.get_by_role("button", name="Apply").click()
    page.until("location.hash.includes('customer_id=C9')")
    page.until("document.querySelectorAll('#feed-table tbody tr').length === 3")
    assert all(ALERT_CUSTOMER in t for t in rows.all_inner_texts())
    p.get_by_label("Record").select_option("knockback")
    p.get_by_role("button", name="Apply").click()
    p.get_by_text("No records match these filters").wait_for()
    # A bad filter is the API's 400, said in words, not a broken page.
    p.get_by_label("Record").select_option("")
    p.get_by_label("Min stake (£)").fill("lots")
    p.get_by_role("button", name="Apply").click()
    assert "min_stake" in p.get_by_role("alert").inner_text()
    assert page.errors == [] or all("400" in e for e in page.errors)
    assert page.foreign() == []


def test_the_risk_feed_shows_high_risk_and_watched_customers_bets(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.goto("/ui#/risk")
    _heading(page, "Risk feed")
    api = _api(stack)
    want = api.get(stack.url + "/feed/risk", params={"limit": 150}, timeout=30).json()["rows"]
    shown = p.locator("#feed-table tbody tr")
    if want:
        assert shown.count() == len(want)
        assert shown.first.get_attribute("data-cursor") == want[0]["cursor"]
    else:
        p.get_by_text("No records match").wait_for()
    page.shot("risk-feed")


def test_an_alert_is_worked_as_a_case_and_resolved(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.goto(f"/ui#/alerts/{day.case_alert_id}")
    _heading(page, day.case_alert_title)
    assert "open" in p.locator(".badges").inner_text()
    # The menu counts the open alerts (GET /alerts/count), this one among them.
    open_before = _api(stack).get(f"{stack.url}/alerts/count", timeout=30).json()["count"]
    assert open_before >= 1
    page.until(f"document.querySelector('#nav-open-alerts')?.textContent === '{open_before} open'")
    case = p.get_by_role("region", name="Case")
    assert case.get_by_role("button", name="Resolve").count() == 0  # not from open
    page.shot("alert-case-open")

    case.locator("#ack-note").fill("Looking at the slips now.")
    case.get_by_role("button", name="Acknowledge").click()
    p.get_by_text("Acknowledged: the case is yours.").wait_for()
    assert "acknowledged" in p.locator(".badges").inner_text()
    case = p.get_by_role("region", name="Case")
    assert case.get_by_role("button", name="Acknowledge").count() == 0
    # A note, a snooze of the rule for this customer, an escalation: each answered in words.
    case.locator("#case-note").fill("Phoned the shop.")
    case.get_by_role("button", name="Add note").click()
    p.get_by_text("Note added.").wait_for()
    case.get_by_label("For", exact=True).select_option("24")
    case.get_by_role("button", name="Snooze").click()
    p.get_by_text(re.compile("^Snoozed: ")).wait_for()
    case.locator("#escalate-note").fill("Needs compliance.")
    case.get_by_role("button", name="Escalate").click()
    p.get_by_text("Escalated.", exact=True).wait_for()
    assert "escalated" in p.locator(".badges").inner_text()
    page.shot("alert-case-escalated")
    case.get_by_label("Outcome").select_option("false_positive")
    case.locator("#resolve-note").fill("Known customer, stakes explained.")
    case.get_by_role("button", name="Resolve").click()
    p.get_by_text("Resolved.", exact=True).wait_for()
    assert "resolved" in p.locator(".badges").inner_text() and "false positive" in p.locator(".badges").inner_text()
    events = p.get_by_role("region", name="Events").inner_text()
    assert "acknowledged by user:sam.staff" in events and "resolved by user:sam.staff" in events
    assert "Known customer, stakes explained." in events and "Phoned the shop." in events
    assert "escalated by user:sam.staff" in events and "snoozed" in events
    page.shot("alert-case-resolved")

    a = _api(stack).get(f"{stack.url}/alerts/{day.case_alert_id}", timeout=30).json()
    assert a["status"] == "resolved" and a["outcome"] == "false_positive" and a["assignee"].endswith("sam.staff")

    # The list counts it as resolved now.
    p.goto("/ui#/alerts?status=resolved")
    p.locator("#alerts-table").get_by_role("link", name=day.case_alert_title).wait_for()
    # ...and the menu's count, read again with the page, has one open alert fewer.
    shown = f"'{open_before - 1} open'" if open_before > 1 else "''"
    menu = "(e => (e.hidden ? '' : e.textContent))(document.querySelector('#nav-open-alerts'))"
    page.until(f"{menu} === {shown}")
    assert page.errors == [] and page.foreign() == []


def test_a_writer_shows_its_slips_and_a_candidate_link_is_confirmed(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.goto(f"/ui#/writers/{day.writer_id}")
    _heading(page, f"Writer {day.writer_id}")
    thumbs = p.get_by_role("region", name="Slip images").locator("img")
    assert thumbs.count() == 3
    page.until("[...document.querySelectorAll('.thumbs img')].every(i => i.complete && i.naturalWidth > 0)", 20)
    srcs = [thumbs.nth(i).get_attribute("src") or "" for i in range(3)]
    assert all(s.startswith(stack.s3_origin + "/") and "Signature" in s for s in srcs), srcs
    page.shot("writer-slips")

    a, b = day.candidate
    p.goto(f"/ui#/writers/{a}")
    _heading(page, f"Writer {a}")
    table = p.locator("#candidates-table")
    row = table.locator("tr", has=p.get_by_role("link", name=b))
    assert "pending" in row.inner_text()
    page.shot("writer-candidate")
    row.get_by_role("button", name=re.compile("^Confirm")).click()
    p.get_by_text(re.compile(r"Confirmed: the same person\. Writer .* merged into .*: done")).wait_for(timeout=60_000)
    page.shot("writer-candidate-confirmed")

    api = _api(stack)
    kept = next(w for w in (a, b) if api.get(f"{stack.url}/writers/{w}", timeout=30).json().get("slips"))
    cands = api.get(f"{stack.url}/writers/{kept}/candidates", timeout=30).json()["candidates"]
    assert any(c["status"] == "confirmed" and c["decided_by"].endswith("sam.staff") for c in cands), cands
    assert len(api.get(f"{stack.url}/writers/{kept}", timeout=30).json()["slips"]) == 4
    assert page.errors == [] and page.foreign() == []


def test_a_customer_category_is_set_and_shown_in_the_feed(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.goto(f"/ui#/customers/{ALERT_CUSTOMER}")
    _heading(page, f"Customer {ALERT_CUSTOMER}")
    cat = p.get_by_role("region", name="Client category")
    cat.get_by_label("Category", exact=True).select_option("watchlist")
    cat.get_by_label("Reason (kept in the audit trail)").fill("Stakes well above his usual")
    cat.get_by_role("button", name="Set category").click()
    p.get_by_text("Category set to watchlist.").wait_for()
    assert "watchlist" in p.get_by_role("region", name="Client category").inner_text()
    history = p.get_by_role("region", name="History of staff actions").inner_text()
    assert "Stakes well above his usual" in history or "watchlist" in history
    page.shot("customer-category")

    p.goto(f"/ui#/feed?customer_id={ALERT_CUSTOMER}")
    _heading(page, "Live feed")
    rows = p.locator("#feed-table tbody tr")
    rows.first.wait_for()
    assert all("cat-row-watchlist" in (rows.nth(i).get_attribute("class") or "") for i in range(rows.count()))
    assert "watchlist" in rows.first.inner_text()
    page.shot("feed-category-colour")

    # Cleared again, with a reason (the other tests expect no category).
    p.goto(f"/ui#/customers/{ALERT_CUSTOMER}")
    cat = p.get_by_role("region", name="Client category")
    cat.get_by_label("Reason (kept in the audit trail)").fill("Reviewed, nothing to watch")
    cat.get_by_role("button", name="Clear category").click()
    p.get_by_text("Category cleared.").wait_for()
    st = _api(stack).get(f"{stack.url}/customers/{ALERT_CUSTOMER}", timeout=30).json()
    assert st["category"] == "none"
    assert page.errors == [] and page.foreign() == []


def test_the_daily_report_draws_its_charts(page: Page, stack: Stack, day: Day) -> None:
    p = page.p
    page.login()
    p.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    _heading(page, "Reports")
    chart = p.locator("svg#chart-hours")
    chart.wait_for()
    date = p.get_by_label("Day (UTC)").input_value()
    report = _api(stack).get(f"{stack.url}/reports/daily", params={"date": date}, timeout=30).json()
    values = [int(v) for v in chart.locator("rect").evaluate_all("rs => rs.map(r => r.dataset.value)")]
    assert len(values) == 24 and values == report["bets_per_hour"] and sum(values) == report["totals"]["bets"] > 0
    heights = chart.locator("rect").evaluate_all("rs => rs.map(r => r.getBBox().height)")
    assert max(heights) > 0
    assert p.locator("svg#chart-sport rect").count() == len(report["by_sport"]) >= 1
    kpis = p.get_by_role("group", name="Key figures").inner_text()
    assert str(report["totals"]["bets"]) in kpis
    page.shot("report-daily")

    with p.expect_download() as got:
        p.get_by_role("button", name="Download CSV").click()
    csv_path = got.value.path()
    assert got.value.suggested_filename == f"betwatch-daily-{date}.csv"
    assert csv_path is not None and "bets" in open(csv_path, encoding="utf-8").read().lower()

    # A customer's report over a period, charts included.
    p.get_by_label("Report", exact=True).select_option("customer")
    p.get_by_label("Id", exact=True).fill(ALERT_CUSTOMER)
    p.get_by_role("button", name="Show").click()
    p.locator("svg#chart-days").wait_for()
    assert "£530.00" in p.get_by_role("group", name="Key figures").inner_text()
    page.shot("report-customer")
    assert page.errors == [] and page.foreign() == []


def test_an_admin_toggles_a_rule_and_staff_may_only_read(page: Page, stack: Stack, day: Day, browser: Any) -> None:
    p = page.p
    page.login(ADMIN_USER, ADMIN_PASSWORD)
    p.get_by_role("navigation", name="Main").get_by_role("link", name="Rules").click()
    _heading(page, "Rules")
    api = _api(stack)
    rule = api.get(f"{stack.url}/rules/structuring_writer", timeout=30).json()
    assert rule["enabled"] is True
    row = p.locator("#rules-table tr", has=p.get_by_role("link", name=rule["name"], exact=True))
    assert "enabled" in row.inner_text()
    page.shot("rules")
    row.get_by_role("button", name=f"Disable {rule['name']}").click()
    p.get_by_text(re.compile(f"{re.escape(rule['name'])} is now disabled")).wait_for()
    assert api.get(f"{stack.url}/rules/structuring_writer", timeout=30).json()["enabled"] is False
    row = p.locator("#rules-table tr", has=p.get_by_role("link", name=rule["name"], exact=True))
    assert "disabled" in row.inner_text()
    row.get_by_role("button", name=f"Enable {rule['name']}").click()
    p.get_by_text(re.compile(f"{re.escape(rule['name'])} is now enabled")).wait_for()
    assert api.get(f"{stack.url}/rules/structuring_writer", timeout=30).json()["enabled"] is True

    # One rule: versions, shadow mode and its hits.
    p.get_by_role("link", name=rule["name"], exact=True).click()
    _heading(page, f"Rule: {rule['name']}")
    p.get_by_role("button", name=re.compile("^Put in shadow mode")).click()
    p.get_by_text(re.compile("is now in shadow mode")).wait_for()
    now = api.get(f"{stack.url}/rules/structuring_writer", timeout=30).json()
    assert now["mode"] == "shadow" and now["version"] > rule["version"]
    assert p.locator("#versions-table tbody tr").count() == now["version"]
    hits = p.get_by_role("region", name="Shadow hits")
    assert "No shadow hits" in hits.inner_text() or hits.locator("#shadow-hits").count() == 1
    page.shot("rule-shadow")
    p.get_by_role("button", name=re.compile("^Make active")).click()
    p.get_by_text(re.compile(r"is now active")).wait_for()
    assert api.get(f"{stack.url}/rules/structuring_writer", timeout=30).json()["mode"] == "active"
    assert page.errors == [] and page.foreign() == []

    # Staff read the catalogue without the buttons (the API would refuse them anyway).
    staff = Page(browser, stack, {"width": 1366, "height": 900})
    try:
        staff.login()
        staff.p.goto("/ui#/rules")
        _heading(staff, "Rules")
        assert staff.p.get_by_text("Only an admin can change rules").count() == 1
        assert staff.p.locator("#rules-table button").count() == 0
        staff.shot("rules-staff")
    finally:
        staff.context.close()


def _drop_bet_file(name: str, data: bytes) -> None:
    """A file in the bet-files bucket under incoming/, as the operator's system drops them: the
    bucket's notification and the stack's event runner take it from there (the consumer path)."""
    import boto3

    from tests.browser.stack import ROOT

    env = dict(line.split("=", 1) for line in (ROOT / ".local" / "env").read_text().splitlines() if "=" in line)
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    s3.put_object(Bucket=env["BETWATCH_BUCKET_BET_FILES"], Key=f"incoming/browser/{name}", Body=data)


def test_knockbacks_and_sms_requests_show_in_the_feed_and_an_sms_is_closed(page: Page, stack: Stack, day: Day) -> None:
    from datetime import timedelta

    from chalicelib.domain.uk_time import LONDON
    from tests.browser.stack import wait_for

    attempted = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(LONDON)
    _drop_bet_file(
        "kb.txt",
        (
            "Knockback Details: KB-BROWSER-1\nCustomer Ref: KB7\n- Error Message: Maximum liability exceeded\n"
            f"- Liability Exceeded: True\n- Maximum stake available: £2.50\n{attempted:%d/%m/%Y %H:%M:%S}\n"
            "- Meeting Name: Ascot 14:30\n- Selection Name: Sea Bird\n- Bet Price: 5.5\n"
            "- Wager Name: Single\n- Total Stake: £50.00\n"
        ).encode(),
    )
    _drop_bet_file(
        "sms.txt",
        (
            b"Wager Number = 5550199\nCustomer Reference: KB7\nMobile Number: 447700900199\n"
            b"SMS Wager Text: can i have a fiver on the\nfavourite in the 3.15 please\ncheers Dave\n"
        ),
    )
    api = _api(stack)

    def arrived() -> list[dict[str, Any]] | None:
        rows = api.get(stack.url + "/feed", params={"customer_id": "KB7"}, timeout=30).json()["rows"]
        return rows if {r["record_type"] for r in rows} == {"knockback", "sms"} else None

    wait_for("the knockback and the SMS request in the feed", arrived, 60)

    p = page.p
    page.login()
    p.goto("/ui#/feed?record_type=knockback")
    _heading(page, "Live feed")
    assert p.get_by_label("Record").input_value() == "knockback"
    rows = p.locator("#feed-table tbody tr")
    row = p.locator("#feed-table tbody tr", has=p.get_by_text("KB-BROWSER-1", exact=False))
    row.wait_for()
    text = row.inner_text()
    assert "knockback" in text and "liability exceeded" in text and "Maximum liability exceeded" in text
    assert "max £2.50 offered" in text and "£50.00" in text and "Sea Bird" in text and "KB7" in text
    assert all("knockback" in t for t in rows.all_inner_texts())  # the filter: knockbacks only
    page.shot("feed-knockbacks")

    p.get_by_label("Record").select_option("sms")
    p.get_by_role("button", name="Apply").click()
    page.until("location.hash.includes('record_type=sms')")
    row = p.locator("#feed-table tbody tr", has=p.get_by_role("link", name="5550199"))
    row.wait_for()
    text = row.inner_text()
    assert "SMS" in text and "open: staff to read" in text and "can i have a fiver on the favourite" in text
    assert "447700900199" not in text  # the mobile number never reaches a feed
    # Every row's record type is in words on the unfiltered feed too.
    p.get_by_label("Record").select_option("")
    p.get_by_role("button", name="Apply").click()
    page.until("!location.hash.includes('record_type')")
    rows_js = "[...document.querySelectorAll('#feed-table tbody tr')]"
    every_typed = f"{rows_js}.every(r => r.querySelector('[class*=badge-rec-]'))"
    page.until(every_typed)
    page.shot("feed-record-types")

    # The open request in the SMS requests list, closed by staff with a note.
    p.get_by_role("navigation", name="Main").get_by_role("link", name="SMS requests").click()
    _heading(page, "SMS requests")
    req = p.locator("#sms-table tbody tr", has=p.get_by_text("5550199", exact=True))
    assert "favourite in the 3.15" in req.inner_text() and "447700900199" not in req.inner_text()
    assert "•••••" in req.inner_text()
    page.shot("sms-requests")
    req.get_by_label("What was done").fill("Rang Dave: a fiver on the favourite, placed at the counter.")
    req.get_by_role("button", name="Close").click()
    p.get_by_text("Closed 5550199.").wait_for()
    p.get_by_text("No SMS requests are open.").wait_for(timeout=10_000)
    st = api.get(f"{stack.url}/sms-requests/5550199", timeout=30).json()
    assert st["status"] == "closed" and st["closed_by"].endswith("sam.staff") and st["note"].startswith("Rang Dave")
    assert page.errors == [] and page.foreign() == []
