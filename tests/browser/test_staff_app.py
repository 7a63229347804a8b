"""The staff app in a real Chromium against the real stack: log in (a wrong password says so),
the alert raised by the schedule, its evidence bet and customer, the writer its slip was linked
to, log out; keyboard-only login; an expired session back at the login page; API text shown as
text; a till-sized screen. Each page is saved as a screenshot under tests/browser/artifacts/."""

from __future__ import annotations

import re

from tests.browser.conftest import Page
from tests.browser.stack import ALERT_CUSTOMER, STAFF_PASSWORD, STAFF_USER, XSS, Day


def _heading(page: Page, name: str | re.Pattern[str]) -> None:
    page.p.get_by_role("heading", level=1, name=name).wait_for()


def test_login_wrong_password_then_alerts(page: Page) -> None:
    p = page.p
    p.goto("/ui")
    p.wait_for_url(re.compile(r"#/login"))
    _heading(page, "betwatch staff")
    page.shot("login")
    p.get_by_label("Username").fill(STAFF_USER)
    p.get_by_label("Password").fill("not the password")
    p.get_by_role("button", name="Log in").click()
    error = p.get_by_role("alert")
    error.wait_for()
    assert error.inner_text() == "Wrong username or password."
    page.shot("login-error")
    assert p.evaluate("sessionStorage.length") == 0

    p.get_by_label("Password").fill(STAFF_PASSWORD)
    p.get_by_role("button", name="Log in").click()
    _heading(page, "Alerts")
    assert p.url.endswith("#/alerts")
    assert p.locator(".who").inner_text().split() == [STAFF_USER, "STAFF"]  # the role, shown
    assert p.evaluate("localStorage.length") == 0 and p.evaluate("sessionStorage.length") == 1
    assert [e for e in page.errors if "status of 401" not in e] == [] and page.foreign() == []


def test_alert_evidence_bet_customer_writer_and_logout(page: Page, day: Day) -> None:
    p = page.p
    page.login()
    summary = p.get_by_role("status")
    assert re.match(r"[1-9]\d* unresolved of", summary.inner_text()), summary.inner_text()
    row = p.locator("#alerts-table tr", has=p.get_by_role("link", name=day.alert_title))
    assert "high" in row.inner_text() and "open" in row.inner_text()
    page.shot("alerts")

    row.get_by_role("link", name=day.alert_title).click()
    _heading(page, day.alert_title)
    assert p.url.endswith(f"#/alerts/{day.alert_id}")
    metric = p.locator(".metric").inner_text()
    assert "£530.00" in metric and "£500.00" in metric
    events = p.locator(".timeline li")
    assert events.count() >= 1 and "raised" in events.first.inner_text()
    page.shot("alert")

    p.get_by_role("link", name=day.alert_bets[0]).click()
    _heading(page, f"Bet {day.alert_bets[0]}")
    assert "/ 100" in p.locator(".risk").inner_text()
    slip = p.get_by_role("region", name="Slip")
    assert "clustered" in slip.inner_text()
    page.shot("bet")

    p.get_by_role("link", name=ALERT_CUSTOMER, exact=True).click()
    _heading(page, f"Customer {ALERT_CUSTOMER}")
    assert "£530.00" in p.get_by_role("region", name="Totals").inner_text()
    assert day.alert_title in p.get_by_role("region", name="Alerts (last 31 days)").inner_text()
    page.shot("customer")

    p.get_by_role("region", name="Linked writers").get_by_role("link", name=day.writer_id).click()
    _heading(page, f"Writer {day.writer_id}")
    assert ALERT_CUSTOMER in p.get_by_role("region", name="Linked customers").inner_text()
    assert p.get_by_role("region", name="Slips (by bet)").get_by_role("link").count() == 3
    page.shot("writer")

    p.get_by_role("button", name="Log out").click()
    _heading(page, "betwatch staff")
    assert "You have logged out." in p.get_by_role("status").inner_text()
    assert p.evaluate("sessionStorage.length") == 0
    p.goto(f"/ui#/alerts/{day.alert_id}")  # no session: back to the login page
    _heading(page, "betwatch staff")
    assert page.errors == [] and page.foreign() == []


def test_keyboard_only_login_and_navigation(page: Page) -> None:
    p = page.p
    p.goto("/ui")
    _heading(page, "betwatch staff")
    assert p.evaluate("document.activeElement.id") == "username"  # focus starts in the form
    p.keyboard.type(STAFF_USER)
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.id") == "password"
    p.keyboard.type(STAFF_PASSWORD)
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.textContent") == "Log in"
    p.keyboard.press("Enter")
    _heading(page, "Alerts")

    # Focus lands on the new page's heading (screen readers announce it).
    assert p.evaluate("document.activeElement.textContent") == "Alerts"
    # Back up through the header (every control reachable); the first stop on the page is the skip link.
    visited = []
    for _ in range(20):
        p.keyboard.press("Shift+Tab")
        visited.append(p.evaluate("document.activeElement.textContent.trim() || document.activeElement.id"))
        if visited[-1] == "Skip to content":
            break
    assert visited[0] == "Log out" and "lookup-id" in visited and "Live feed" in visited, visited
    assert visited[-1] == "Skip to content", visited
    ring = p.evaluate("(s => [s.outlineStyle, s.outlineWidth])(getComputedStyle(document.activeElement))")
    assert ring == ["solid", "3px"]
    assert p.locator(".skip").bounding_box()["y"] >= 0  # type: ignore[index]  # on screen when focused
    page.shot("keyboard-skip-link")
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.id") == "main"
    # The next Tab is the first filter; a key changes it and the address remembers the choice.
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.id") == "f-days"
    p.keyboard.press("ArrowDown")  # 7 days -> 14 days
    page.until("location.hash.includes('days=14')")
    # On through the filters to the first alert; Enter opens it.
    for _ in range(4):  # status, severity, Refresh, the first alert's link
        p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.closest('#alerts-table') !== null")
    p.keyboard.press("Enter")
    p.wait_for_url(re.compile(r"#/alerts/al-"))
    assert page.errors == []


def test_every_menu_page_opens(page: Page) -> None:
    page.login()
    for title in ("Live feed", "Risk feed", "Reports", "Rules", "Alerts"):
        page.p.get_by_role("navigation", name="Main").get_by_role("link", name=title, exact=True).click()
        _heading(page, title)
        assert page.p.locator("[aria-current=page]").inner_text() == title
        assert page.p.locator(".soon").count() == 0  # no placeholder left
    assert page.errors == [] and page.foreign() == []


def test_an_expired_token_returns_to_login(page: Page, day: Day) -> None:
    p = page.p
    page.login()
    # A token the API no longer accepts (e.g. the signing key rotated): the first 401 signs out.
    p.evaluate(
        """() => { const s = JSON.parse(sessionStorage.getItem('betwatch.session'));
                   s.token = s.token.slice(0, -4) + 'AAAA';
                   sessionStorage.setItem('betwatch.session', JSON.stringify(s)); }"""
    )
    p.goto(f"/ui#/alerts/{day.alert_id}")
    _heading(page, "betwatch staff")
    assert "Your session has ended" in p.get_by_role("status").inner_text()
    assert p.evaluate("sessionStorage.length") == 0
    # Logging in again returns to the page that was asked for.
    p.get_by_label("Username").fill(STAFF_USER)
    p.get_by_label("Password").fill(STAFF_PASSWORD)
    p.get_by_role("button", name="Log in").click()
    _heading(page, day.alert_title)


def test_api_text_is_shown_as_text(page: Page, day: Day) -> None:
    p = page.p
    page.login()
    p.goto(f"/ui#/bets/{day.xss_bet}")
    _heading(page, f"Bet {day.xss_bet}")
    assert XSS in p.get_by_role("region", name="Selections").inner_text()
    assert p.evaluate("window.__xss") is None and p.locator("main img").count() == 0


def test_lookup_box_opens_a_customer(page: Page) -> None:
    p = page.p
    page.login()
    p.get_by_label("What to look up").select_option("customers")
    p.get_by_label("Id to look up").fill(ALERT_CUSTOMER)
    p.get_by_label("Id to look up").press("Enter")
    _heading(page, f"Customer {ALERT_CUSTOMER}")
    p.get_by_label("Id to look up").fill("NOBODY")
    p.get_by_label("Id to look up").press("Enter")
    _heading(page, "Not found")


def test_till_screen_fits_without_sideways_scrolling(till_page: Page, day: Day) -> None:
    p = till_page.p
    till_page.login()
    till_page.shot("till-alerts")
    for hash_ in (
        f"#/alerts/{day.alert_id}",
        f"#/bets/{day.alert_bets[0]}",
        f"#/customers/{ALERT_CUSTOMER}",
        f"#/writers/{day.writer_id}",
        "#/feed",
        "#/risk",
        "#/reports",
        "#/rules",
    ):
        p.goto(f"/ui{hash_}")
        p.locator("main h1").wait_for()
        assert p.evaluate("document.documentElement.scrollWidth") <= 1024, hash_
        if hash_ in ("#/feed", "#/reports"):
            till_page.shot(f"till-{hash_[2:]}")
    till_page.shot("till-rules")
