"""Browser tests: Debian's Chromium driven by Playwright against the real stack (`local.run`).

Skipped, with the reason, when Chromium or Playwright is missing (`.ci/run` installs Chromium;
`make test-browser` says so loudly). Set BETWATCH_CHROMIUM to use another Chromium binary.
Screenshots of each page go to tests/browser/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.stack import STAFF_PASSWORD, STAFF_USER, Day, Stack, place_day

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# No background traffic: this machine (and an operator's locked-down network) reaches nothing else.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LAPTOP = {"width": 1366, "height": 900}
TILL = {"width": 1024, "height": 768}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("BETWATCH_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


def _skip(reason: str) -> None:
    # CI sets BETWATCH_BROWSER_TESTS=required: there a missing browser is a failure, not a skip.
    if os.environ.get("BETWATCH_BROWSER_TESTS") == "required":
        pytest.fail(f"browser tests required: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        _skip("no Chromium found (apt-get install chromium, or set BETWATCH_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip("Python playwright is not installed (make venv)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def stack(chromium: str) -> Iterator[Stack]:
    s = Stack(ARTIFACTS / "stack.log").start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def day(stack: Stack) -> Day:
    return place_day(stack)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A fresh browser context per test (its own sessionStorage), every request and console error
    recorded, and foreign requests blocked (they would hang on a closed network)."""

    def __init__(self, browser: Any, stack: Stack, viewport: dict[str, int]):
        self.stack = stack
        self.context = browser.new_context(viewport=viewport, base_url=stack.url)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.p = self.context.new_page()
        self.p.set_default_timeout(15_000)
        self.p.on("console", self._console)
        self.p.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _allowed(self, url: str) -> bool:
        # The API, and the embedded S3 for slip thumbnails (presigned GETs, as the CSP allows).
        return url.startswith((self.stack.url + "/", self.stack.s3_origin + "/", "data:", "blob:"))

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if self._allowed(url):
            route.continue_()
        else:
            route.abort()

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not self._allowed(u)]

    def until(self, expression: str, timeout_s: float = 15) -> None:
        """Wait until a JS expression is true. Polled from here with evaluate: the page's CSP (no
        eval) refuses Playwright's in-page wait_for_function polling."""
        deadline = time.monotonic() + timeout_s
        while not self.p.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {expression}")
            time.sleep(0.2)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.p.screenshot(path=str(path), full_page=True)
        return path

    def login(self, username: str = STAFF_USER, password: str = STAFF_PASSWORD) -> None:
        self.p.goto("/ui")
        self.p.get_by_label("Username").fill(username)
        self.p.get_by_label("Password").fill(password)
        self.p.get_by_role("button", name="Log in").click()
        self.p.get_by_role("heading", name="Alerts", level=1).wait_for()


@pytest.fixture
def page(browser: Any, stack: Stack, day: Day) -> Iterator[Page]:
    pg = Page(browser, stack, LAPTOP)
    yield pg
    pg.context.close()


@pytest.fixture
def till_page(browser: Any, stack: Stack, day: Day) -> Iterator[Page]:
    pg = Page(browser, stack, TILL)
    yield pg
    pg.context.close()
