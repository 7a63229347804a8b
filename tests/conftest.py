"""Shared fixtures: an in-process AWS (moto's mock_aws) and the provisioned betwatch resources.

def test_x(aws): ...            # mock_aws active, dummy credentials, eu-west-2, fresh clients
def test_y(provisioned): ...    # + every resource of resources.py created, env vars set
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib import wiring  # noqa: E402
from chalicelib.core import aws as aws_clients  # noqa: E402
from chalicelib.core import config  # noqa: E402

REGION = "eu-west-2"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's mock_aws for the test, with dummy credentials and no endpoint override."""
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    aws_clients.reset()
    config.reset()
    wiring.use(None)
    with mock_aws():
        yield
    aws_clients.reset()
    config.reset()
    wiring.use(None)


@pytest.fixture
def provisioned(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Every declared resource created in moto; yields the env dict (also set in os.environ)."""
    from local.provision import provision

    env = provision("local", alert_emails=["staff@example.com"], alert_phones=["+447700900123"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config.reset()
    wiring.use(None)
    yield env
    config.reset()
    wiring.use(None)


@pytest.fixture
def events_dir() -> Path:
    return ROOT / "tests" / "events"


@pytest.fixture
def load_event(events_dir: Path) -> Any:
    """load_event("scheduled_event.json") → the fixture as a dict."""

    def load(name: str) -> Any:
        return json.loads((events_dir / name).read_text())

    return load
