"""Unit-test fixtures: every service over in-memory fakes (no moto, no network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core import config
from tests.helpers import JWT_SECRET, Api, make_api


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[wiring.Container]:
    for name in list(__import__("os").environ):
        if name.startswith("BETWATCH_"):
            monkeypatch.delenv(name)
    cfg = config.from_env({"BETWATCH_JWT_SECRET": JWT_SECRET})
    c = wiring.in_memory(cfg)
    wiring.use(c)
    yield c
    wiring.use(None)


@pytest.fixture
def api(services: wiring.Container) -> Iterator[Api]:
    import app as app_module

    with Client(app_module.app) as client:
        yield make_api(client)
