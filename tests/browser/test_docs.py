"""/docs in a real Chromium: Swagger UI renders every operation from the package's own files,
with no request leaving the API's origin (foreign requests are recorded and blocked)."""

from __future__ import annotations

import requests

from tests.browser.conftest import Page


def test_docs_render_offline_with_every_operation(page: Page) -> None:
    doc = requests.get(f"{page.stack.url}/openapi.json", timeout=10).json()
    operations = sum(len(ops) for ops in doc["paths"].values())
    p = page.p
    p.goto("/docs")
    p.locator(".opblock").first.wait_for()
    page.until(f"document.querySelectorAll('.opblock').length === {operations}")
    paths = p.locator(".opblock-summary-path").evaluate_all(
        "els => els.map(e => e.textContent.replace(/\\u200b/g, '').trim())"
    )
    assert paths.count("/alerts/{alert_id}") == 1, paths
    assert p.locator(".info .title").inner_text().startswith("betwatch")
    page.shot("docs")
    assert page.foreign() == [], page.foreign()
    assert all(u.startswith(page.stack.url + "/") for u in page.requests if not u.startswith("data:"))
    assert any(u.endswith("/openapi.json") for u in page.requests)
    assert page.errors == [], page.errors
