"""Access control (issue 11): scoped ingest keys that read only what they wrote, keys listed
(never a secret), revoked and rotated, users disabled (their tokens refused from then on), failed
logins locked out per user and per source, every admin action audited, and a matrix of every
route × every role and scope with 0 leaks. The clock is pinned (the lockout windows follow it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core import config
from chalicelib.domain.access import Role
from tests.helpers import JWT_SECRET, Clock, bet_body

NOON = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=1, second=0, microsecond=0)
JSON = {"content-type": "application/json"}


class World:
    """An admin key, three scoped ingest keys and an unscoped one, a staff user, one bet per shop."""

    def __init__(self, client: Client, clock: Clock) -> None:
        self.c, self.clock = client, clock
        access = wiring.container().access
        self.admin = {"x-api-key": access.create_api_key("root", "admin")}
        self.keys = {
            "till-S01": self.create_key({"name": "till-S01", "role": "ingest", "shop_id": "S01"}),
            "till-S02": self.create_key({"name": "till-S02", "role": "ingest", "shop_id": "S02"}),
            "website": self.create_key({"name": "website", "role": "ingest", "channel": "online"}),
            "gateway": self.create_key({"name": "gateway", "role": "ingest"}),
        }
        r = self.call("POST", "/admin/users", self.admin, {"username": "alice", "password": "correct horse battery",
                                                           "role": "staff"})  # fmt: skip
        assert r.status_code == 201, r.body
        self.staff = {
            "authorization": f"Bearer {self.login('alice', 'correct horse battery').json_body['access_token']}"
        }
        self.s01_bet = self.bet("till-S01", shop_id="S01").json_body["bet_id"]
        self.s02_bet = self.bet("till-S02", shop_id="S02").json_body["bet_id"]

    def call(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        raw = json.dumps(body) if body is not None else None
        return self.c.http.request(method, path, body=raw, headers={**JSON, **headers} if raw else headers)

    def create_key(self, body: dict[str, Any]) -> dict[str, str]:
        r = self.call("POST", "/admin/api-keys", self.admin, body)
        assert r.status_code == 201, r.body
        return {"x-api-key": r.json_body["api_key"]}

    def login(self, username: str, password: str) -> Any:
        return self.call("POST", "/auth/login", {}, {"username": username, "password": password})

    def bet(self, key: str, **kw: Any) -> Any:
        placed = (NOON - timedelta(minutes=30)).isoformat()
        return self.call("POST", "/bets", self.keys[key], bet_body(placed_at=placed, **kw))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[World]:
    import app as app_module

    for name in list(__import__("os").environ):
        if name.startswith("BETWATCH_"):
            monkeypatch.delenv(name)
    wiring.use(wiring.in_memory(config.from_env({"BETWATCH_JWT_SECRET": JWT_SECRET}), clock=clock))
    with Client(app_module.app) as client:
        yield World(client, clock)
    wiring.use(None)


def test_ingest_keys_record_only_their_shop_or_channel(world: World) -> None:
    assert world.bet("till-S01", shop_id="S01").status_code == 201
    other_shop = world.bet("till-S01", shop_id="S02")
    assert other_shop.status_code == 403 and other_shop.json_body["error"] == "out_of_scope"
    assert "shop S01" in other_shop.json_body["message"]
    assert world.bet("website", channel="retail", shop_id="S01").status_code == 403
    assert world.bet("website", channel="online", shop_id=None).status_code == 201
    assert world.bet("gateway", shop_id="S09").status_code == 201  # an unscoped key: any shop and channel


def test_a_till_reads_only_the_bets_it_wrote(world: World) -> None:
    s01, s02 = world.keys["till-S01"], world.keys["till-S02"]
    assert world.call("GET", f"/bets/{world.s01_bet}", s01).status_code == 200
    for path in (f"/bets/{world.s01_bet}", f"/bets/{world.s01_bet}/slip"):
        r = world.call("GET", path, s02)
        assert r.status_code == 404 and world.s01_bet in r.json_body["message"], (path, r.body)
    assert world.call("POST", f"/bets/{world.s01_bet}/slip", s02, {"content_type": "image/jpeg"}).status_code == 404
    assert world.call("POST", f"/bets/{world.s01_bet}/slip", s01, {"content_type": "image/jpeg"}).status_code == 201
    assert world.call("GET", f"/bets/{world.s01_bet}", world.staff).status_code == 200  # staff read every bet


def test_keys_are_listed_without_secrets_revoked_and_rotated(world: World, clock: Clock) -> None:
    listed = world.call("GET", "/admin/api-keys", world.admin)
    assert listed.status_code == 200
    names = {k["name"]: k for k in listed.json_body["api_keys"]}
    assert set(names) == {"root", "till-S01", "till-S02", "website", "gateway"}
    assert names["till-S01"]["scope"] == "shop:S01" and names["website"]["scope"] == "channel:online"
    secrets = [h["x-api-key"] for h in world.keys.values()] + [world.admin["x-api-key"]]
    assert not any(s in listed.body.decode() or s[3:15] in listed.body.decode() for s in secrets)
    assert all(re.fullmatch(r"[0-9a-f]{12}", k["key_id"]) for k in names.values())
    dup = world.call("POST", "/admin/api-keys", world.admin, {"name": "website", "role": "ingest"})
    assert dup.status_code == 409

    r = world.call("POST", "/admin/api-keys/till-S02/revoke", world.admin)
    assert r.status_code == 200 and r.json_body["revoked_at"]
    assert world.bet("till-S02", shop_id="S02").status_code == 401
    assert world.call("POST", "/admin/api-keys/till-S02/revoke", world.admin).status_code == 404

    old = world.keys["till-S01"]
    r = world.call("POST", "/admin/api-keys/till-S01/rotate?grace_minutes=10", world.admin)
    assert r.status_code == 201 and r.json_body["scope"] == "shop:S01"
    new = {"x-api-key": r.json_body["api_key"]}
    assert world.call("GET", f"/bets/{world.s01_bet}", new).status_code == 200  # same name: same bets
    assert world.call("GET", f"/bets/{world.s01_bet}", old).status_code == 200  # within the grace period
    clock.at += timedelta(minutes=11)
    wiring.container().access.clear_cache()
    assert world.call("GET", f"/bets/{world.s01_bet}", old).status_code == 401
    assert world.call("GET", f"/bets/{world.s01_bet}", new).status_code == 200
    r = world.call("POST", "/admin/api-keys/till-S01/rotate", world.admin)
    assert world.call("GET", f"/bets/{world.s01_bet}", new).status_code == 401  # no grace: at once
    assert world.call("POST", "/admin/api-keys/nobody/rotate", world.admin).status_code == 404


def test_a_disabled_users_tokens_are_refused_from_then_on(world: World) -> None:
    assert world.call("GET", "/alerts", world.staff).status_code == 200
    assert world.call("POST", "/admin/users/alice/disable", world.admin).status_code == 200
    r = world.call("GET", "/alerts", world.staff)
    assert r.status_code == 401 and r.json_body["error"] == "user_disabled"
    assert world.login("alice", "correct horse battery").status_code == 401
    assert world.call("POST", "/admin/users/nobody/disable", world.admin).status_code == 404
    assert world.call("POST", "/admin/users/alice/enable", world.admin).status_code == 200
    assert world.call("GET", "/alerts", world.staff).status_code == 200
    assert world.login("alice", "correct horse battery").status_code == 200


def test_failed_logins_lock_out_per_user_and_per_source(world: World, clock: Clock) -> None:
    for _ in range(5):
        assert world.login("alice", "wrong password!").status_code == 401
    locked = world.login("alice", "correct horse battery")  # even the right password, until the window ends
    assert locked.status_code == 429 and locked.json_body["error"] == "too_many_attempts"
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    r = world.call("POST", "/admin/users", world.admin, {"username": "bob", "password": "another long pass",
                                                         "role": "staff"})  # fmt: skip
    assert r.status_code == 201
    assert world.login("bob", "another long pass").status_code == 200  # another user is not locked out
    for i in range(14):  # 5 + 14 = 19 failures from this source
        assert world.login(f"guess{i}", "wrong password!").status_code == 401
    assert world.login("bob", "wrong password!").status_code == 401  # the 20th
    assert world.login("bob", "another long pass").status_code == 429  # the source is locked out now
    clock.at += timedelta(minutes=15)
    assert world.login("alice", "correct horse battery").status_code == 200


def test_every_admin_action_is_audited(world: World) -> None:
    world.call("POST", "/admin/api-keys/website/rotate", world.admin)
    world.call("POST", "/admin/api-keys/gateway/revoke", world.admin)
    world.call("POST", "/admin/users/alice/disable", world.admin)
    world.call("POST", "/admin/users/alice/enable", world.admin)
    events = world.call("GET", "/admin/audit", world.admin).json_body["events"]
    actions = [(e["action"], e["target"]) for e in events]
    assert actions[:4] == [
        ("user.enable", "alice"),
        ("user.disable", "alice"),
        ("api_key.revoke", "gateway"),
        ("api_key.rotate", "website"),
    ]
    assert ("user.create", "alice") in actions and ("api_key.create", "till-S01") in actions
    assert {e["actor"] for e in events[:4]} == {"key:root"}
    assert world.call("GET", "/admin/audit", world.staff).status_code == 403


# --- the matrix ---------------------------------------------------------------------------------


def _principals(world: World) -> dict[str, tuple[dict[str, str], Role | None]]:
    """name -> (credentials, role); role None: must be refused as unauthenticated."""
    access = wiring.container().access
    access.create_user("mallory", "a long enough password", "staff")
    mallory = world.login("mallory", "a long enough password").json_body["access_token"]
    revoked = world.create_key({"name": "old-till", "role": "ingest"})
    world.call("POST", "/admin/api-keys/old-till/revoke", world.admin)
    world.call("POST", "/admin/users/mallory/disable", world.admin)
    return {
        "anonymous": ({}, None),
        "bad key": ({"x-api-key": "bw_not-a-key"}, None),
        "bad token": ({"authorization": "Bearer a.b.c"}, None),
        "revoked key": (revoked, None),
        "disabled user": ({"authorization": f"Bearer {mallory}"}, None),
        "admin": (world.admin, Role.admin),
        "staff": (world.staff, Role.staff),
        **{name: (h, Role.ingest) for name, h in world.keys.items()},
    }


def _routes() -> list[tuple[str, str, Any]]:
    import app as app_module

    out = []
    for path, methods in sorted(app_module.app.routes.items()):
        for method, entry in sorted(methods.items()):
            spec = getattr(entry.view_function, "__betwatch_spec__", None)
            out.append((path, method, spec))
    return out


def test_every_route_times_every_role_and_scope_leaks_nothing(world: World) -> None:
    principals = _principals(world)
    own_bet = {"till-S01": world.s01_bet, "till-S02": world.s02_bet}
    checked = 0
    for path, method, spec in _routes():
        for name, (headers, role) in principals.items():
            bet_id = world.s01_bet
            concrete = re.sub(r"{bet_id}", bet_id, path)
            concrete = re.sub(r"{[a-z_]+}", "x", concrete)
            body = {} if spec is not None and spec.request is not None else None
            r = world.call(method, concrete, headers, body)
            where = (method, path, name, r.status_code, r.body[:200])
            assert r.status_code < 500, where
            checked += 1
            if spec is None or spec.roles is None:  # public
                assert r.status_code not in (401, 403), where
                continue
            if role is None:
                assert r.status_code == 401, where
                continue
            allowed = role is Role.admin or role in spec.roles
            assert r.status_code not in (401, 403) if allowed else r.status_code == 403, where
            # 0 leaks: an ingest key never sees a bet it did not write, nor learns that it exists.
            if allowed and role is Role.ingest and "{bet_id}" in path and own_bet.get(name) != bet_id:
                assert r.status_code == 404, where
                assert r.json_body["error"] == "not_found" and "risk" not in r.body.decode(), where
    assert checked >= 40 * len(principals)
