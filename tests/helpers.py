"""Test helpers: an API client with credentials, and valid bet bodies to vary."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"


def recent_noon(now: datetime | None = None) -> datetime:
    """A daytime instant (no night-bets point in the harm screen) between 1 and 20 hours before
    now, whatever the time of day the suite runs at: the last 12:00 UTC at least an hour ago, or
    an hour ago when that noon is further back (from 08:00 to 13:00 UTC). Rules evaluated at the
    real clock then still see bets placed at it inside their 24 h window."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    noon = (now - timedelta(hours=1)).replace(hour=12, minute=0)
    if noon > now - timedelta(hours=1):
        noon -= timedelta(days=1)
    return noon if now - noon <= timedelta(hours=20) else now - timedelta(hours=1)


class Clock:
    """A clock a test sets by hand (services take a `() -> datetime`)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def bet_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": "C100",
        "shop_id": "S01",
        "channel": "retail",
        "stake": "20.00",
        "currency": "GBP",
        "bet_type": "single",
        "selections": [{"event": "14:30 Cheltenham", "market": "win", "selection": "Desert Orchid", "price": "5/2"}],
        "sport": "horse_racing",
        "placed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class Api:
    """chalice.test.Client with the roles' credentials ready."""

    def __init__(self, client: Client, admin_key: str, ingest_key: str, staff_token: str):
        self.c, self.admin_key, self.ingest_key, self.staff_token = client, admin_key, ingest_key, staff_token

    def ingest(self) -> dict[str, str]:
        return {"x-api-key": self.ingest_key, "content-type": "application/json"}

    def staff(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.staff_token}"}

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.c.http.post(path, body=raw, headers={**self.ingest(), **(headers or {})})

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.c.http.get(path, headers=headers if headers is not None else self.staff())


def make_api(client: Client) -> Api:
    from chalicelib import wiring

    access = wiring.container().access
    # Key names are unique: a second test on the same stack (LocalStack's) gets its own keys.
    tag = uuid.uuid4().hex[:6]
    admin = access.create_api_key(f"test-admin-{tag}", "admin")
    ingest = access.create_api_key(f"test-till-{tag}", "ingest")
    from chalicelib.domain.errors import Conflict

    try:
        access.create_user("alice", "correct horse battery", "staff")
    except Conflict:  # a stack shared by several tests (LocalStack is provisioned once per module)
        pass
    r = client.http.post(
        "/auth/login",
        body=json.dumps({"username": "alice", "password": "correct horse battery"}),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.body
    return Api(client, admin, ingest, r.json_body["access_token"])


class Scenario:
    """The flow tests' day: two anonymous hands with slips (hand 2 also on customer C7's bet), a
    non-image slip, and account customer C9 over £500 in 24 h. Bets are placed; slips are returned
    for the caller to upload through whichever S3 it is testing."""

    def __init__(self, api: Api, now: datetime):
        from local.slipgen import make_slip

        self.anon: dict[int, list[str]] = {1: [], 2: []}
        self.uploads: list[tuple[str, bytes]] = []
        plan = [(1, "200.00", None), (2, "5.00", "C7"), (1, "180.00", None), (2, "4.00", None), (1, "150.00", None)]
        for i, (hand, stake, customer) in enumerate(plan):
            bet_id = self._bet(api, customer, stake, now - timedelta(hours=5 - i))
            self.anon[hand].append(bet_id)
            self.uploads.append((bet_id, make_slip(writer_seed=hand, slip_seed=i)))
        self.bad = self._bet(api, None, "1.00", now - timedelta(minutes=5))
        self.uploads.append((self.bad, b"GIF89a not really an image" * 100))
        for i, stake in enumerate(["300.00", "250.00"]):
            self._bet(api, "C9", stake, now - timedelta(hours=3 - i))

    def linked_writers(self, api: Api) -> tuple[str, str]:
        """Once every slip is processed: each hand is one writer, the bad slip is rejected, hand 1's
        writer holds its £530 in 24 h and hand 2's is linked to C7. Returns the two writer ids."""
        status = {b: api.get(f"/bets/{b}/slip").json_body for ids in self.anon.values() for b in ids}
        assert all(s["status"] == "clustered" for s in status.values()), status
        writers = {w: {status[b]["writer_id"] for b in ids} for w, ids in self.anon.items()}
        assert len(writers[1]) == 1 and len(writers[2]) == 1 and writers[1] != writers[2], writers
        rejected = api.get(f"/bets/{self.bad}/slip").json_body
        assert rejected["status"] == "rejected" and "image" in rejected["reason"]
        w1, w2 = next(iter(writers[1])), next(iter(writers[2]))
        assert api.get(f"/writers/{w1}").json_body["windows"]["24h"] == {"bets": 3, "stake_minor": 53_000}
        assert api.get(f"/writers/{w2}").json_body["linked"] == ["C7"]
        return w1, w2

    @staticmethod
    def _bet(api: Api, customer: str | None, stake: str, placed_at: datetime) -> str:
        r = api.post("/bets", bet_body(customer_id=customer, stake=stake, placed_at=placed_at.isoformat()))
        assert r.status_code == 201, r.body
        return str(r.json_body["bet_id"])
