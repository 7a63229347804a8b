"""The access adapter on moto: keys unique by name and listed by one Query, revoked and rotated
in transactions, users disabled, failed logins counted atomically, the audit trail newest first."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.adapters.secrets import StaticSecret
from chalicelib.domain.errors import Conflict, NotFound, RateLimited, Unauthenticated
from chalicelib.services.access import AccessService, TokenSettings
from tests.helpers import JWT_SECRET

NOON = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=1, second=0, microsecond=0)


@pytest.fixture
def svc(adapters: wiring.Adapters) -> AccessService:
    # A clock that moves a millisecond per reading: audit events in one instant have no order.
    ticks = itertools.count()
    return AccessService(
        adapters.principals,
        StaticSecret(JWT_SECRET),
        TokenSettings(600, "betwatch"),
        lambda: NOON + timedelta(milliseconds=next(ticks)),
    )


def test_keys_on_dynamodb(svc: AccessService) -> None:
    till = svc.create_api_key("till-S01", "ingest", "shop:S01", actor="key:root")
    with pytest.raises(Conflict):
        svc.create_api_key("till-S01", "ingest")
    assert svc.authenticate({"x-api-key": till}).scope == "shop:S01"
    assert [k.name for k in svc.api_keys()] == ["till-S01"]
    new, _ = svc.rotate_api_key("till-S01", actor="key:root")
    svc.clear_cache()
    with pytest.raises(Unauthenticated):
        svc.authenticate({"x-api-key": till})
    assert svc.authenticate({"x-api-key": new}).id == "key:till-S01"
    svc.revoke_api_key("till-S01", actor="key:root")
    with pytest.raises(Unauthenticated):
        svc.authenticate({"x-api-key": new})
    with pytest.raises(NotFound):
        svc.revoke_api_key("till-S01", actor="key:root")
    (listed,) = svc.api_keys()
    assert listed.revoked_at and listed.digest != ""


def test_users_lockout_and_audit_on_dynamodb(svc: AccessService) -> None:
    svc.create_user("alice", "correct horse battery", "staff", actor="key:root")
    token, _ = svc.login("alice", "correct horse battery", "10.0.0.1")
    assert svc.authenticate({"authorization": f"Bearer {token}"}).id == "user:alice"
    svc.set_user_disabled("alice", True, actor="key:root")
    with pytest.raises(Unauthenticated):
        svc.authenticate({"authorization": f"Bearer {token}"})
    svc.set_user_disabled("alice", False, actor="key:root")
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            svc.login("alice", "wrong password!", "10.0.0.1")
    with pytest.raises(RateLimited):
        svc.login("alice", "correct horse battery", "10.0.0.2")
    actions = [e.action for e in svc.audit_trail(10)]
    assert actions == ["user.enable", "user.disable", "user.create"]
