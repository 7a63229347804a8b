"""Credentials on in-memory stores: API keys (hash only), users (scrypt), tokens and roles."""

from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.adapters import memory
from chalicelib.adapters.secrets import StaticSecret
from chalicelib.domain.access import Role
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, Unauthenticated
from chalicelib.services.access import AccessService, SigningKeyMissing, TokenSettings, key_hash

KEY = "k" * 40


@pytest.fixture
def svc() -> AccessService:
    return AccessService(memory.MemoryPrincipals(), StaticSecret(KEY), TokenSettings(3600, "betwatch"))


def test_api_keys_are_stored_as_hashes_and_resolve_to_roles(svc: AccessService) -> None:
    key = svc.create_api_key("till-1", "ingest")
    store = svc.principals
    assert isinstance(store, memory.MemoryPrincipals)
    assert key not in str(store.keys) and key_hash(key) in store.keys
    p = svc.require({"X-Api-Key": key}, Role.ingest)
    assert p.role is Role.ingest and p.id.endswith(":till-1")
    with pytest.raises(Forbidden):
        svc.require({"x-api-key": key}, Role.staff)
    with pytest.raises(Unauthenticated):
        svc.require({"x-api-key": "bw_nope"}, Role.ingest)
    admin = svc.create_api_key("ops", "admin")
    assert svc.require({"x-api-key": admin}, Role.staff).role is Role.admin  # admin may do everything


def test_users_log_in_and_tokens_carry_the_role(svc: AccessService) -> None:
    svc.create_user("alice", "correct horse battery", "staff")
    with pytest.raises(Conflict):
        svc.create_user("alice", "another long password", "staff")
    with pytest.raises(Invalid):
        svc.create_user("bob", "short", "staff")
    token, ttl = svc.login("alice", "correct horse battery")
    assert ttl == 3600
    assert svc.require({"Authorization": f"Bearer {token}"}, Role.staff).id == "user:alice"
    for user, pw in (("alice", "wrong"), ("nobody", "correct horse battery")):
        with pytest.raises(Unauthenticated, match="unknown username or wrong password"):
            svc.login(user, pw)


def test_bad_tokens_are_401(svc: AccessService) -> None:
    now = int(time.time())
    expired = jwt.encode({"sub": "a", "role": "staff", "exp": now - 1, "iss": "betwatch"}, KEY, algorithm="HS256")
    unknown_role = jwt.encode({"sub": "a", "role": "root", "exp": now + 60, "iss": "betwatch"}, KEY, algorithm="HS256")
    forged = jwt.encode({"sub": "a", "role": "admin", "exp": now + 60, "iss": "betwatch"}, "x" * 40, algorithm="HS256")
    for token, code in ((expired, "token_expired"), (unknown_role, "invalid_token"), (forged, "invalid_token")):
        with pytest.raises(Unauthenticated) as e:
            svc.authenticate({"authorization": f"Bearer {token}"})
        assert e.value.code == code
    with pytest.raises(Unauthenticated):
        svc.authenticate({})


def test_without_a_signing_key_login_fails_closed() -> None:
    svc = AccessService(memory.MemoryPrincipals(), StaticSecret(""), TokenSettings(3600, "betwatch"))
    svc.create_user("alice", "correct horse battery", "staff")
    with pytest.raises(SigningKeyMissing):
        svc.login("alice", "correct horse battery")
