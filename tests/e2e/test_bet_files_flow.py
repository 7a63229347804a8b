"""Bet files end to end, in-process: objects dropped under incoming/ in the bet-files bucket -> S3
notification -> SQS -> the Chalice consumer (played by the local event runner) -> bets, knockbacks
and SMS requests visible through the API; a malformed file in the same batch lands in quarantine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.uk_time import LONDON
from tests.helpers import Api, make_api

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"
# Yesterday at midday UTC: in the past whatever the time of day, inside every window used below.
WHEN = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def uk(ts: datetime) -> str:
    return f"{ts.astimezone(LONDON):%d/%m/%Y %H:%M:%S}"


BET = (
    "Wager Number - 7000001 / Customer Reference - E2E1 / Customer Risk Category - W\r\n"
    f"Bet placed on {uk(WHEN)}\r\n"
    "Ascot, 14:30, - Sea Bird at 5.5\r\n"
    "Kempton, 15:10, - Night Owl at 9/2\r\n"
    "Bets Each Way: 1 Double. Unit Stake: £5.00, Payment: £10.00.\r\n"
    "Wagers : 1 x £5.00 : Each Way Double\r\n"
).encode()
KNOCKBACK = (
    "Knockback Details: KB-E2E-1\nCustomer Ref: E2E1\n- Error Message: Maximum liability exceeded\n"
    f"- Liability Exceeded: True\n- Maximum stake available: £2.50\n{uk(WHEN + timedelta(minutes=5))}\n"
    "- Meeting Name: Ascot 14:30\n- Selection Name: Sea Bird\n- Bet Price: 5.5\n"
    "- Wager Name: Single\n- Total Stake: £50.00\n"
).encode()
SMS_BET = (
    f"Wager Number = 7000002\nCustomer Reference: E2E1\nMobile Number: 07700 900123\n"
    f"Received: {uk(WHEN + timedelta(minutes=10))}\nSMS Wager Text: £5 e/w Sea Bird 14:30 Ascot 9/2\n"
).encode()


@pytest.fixture
def system(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any]]:
    from chalicelib import wiring
    from chalicelib.core import aws, config
    from local.handlers import resolve_handlers
    from local.runner import EventRunner

    monkeypatch.delenv("BETWATCH_JWT_SECRET", raising=False)
    config.reset()
    wiring.use(None)
    import app as app_module

    queue_handlers, _ = resolve_handlers()
    runner = EventRunner(dict(provisioned), aws.client("sqs"), {"bet-files": queue_handlers["bet-files"]})
    with Client(app_module.app) as client:
        yield make_api(client), runner


def _drop(name: str, data: bytes) -> str:
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    key = f"incoming/{name}"
    aws.client("s3").put_object(Bucket=settings().bucket("bet-files"), Key=key, Body=data)
    return key


def _objects(prefix: str) -> dict[str, bytes]:
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    s3, bucket = aws.client("s3"), settings().bucket("bet-files")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_files_dropped_in_the_bucket_become_bets_knockbacks_and_sms_requests(system: tuple[Api, Any]) -> None:
    api, runner = system
    malformed = (SAMPLES / "bet_payment_mismatch.txt").read_bytes()
    for name, data in [
        ("2026/bet.txt", BET),
        ("2026/kb.txt", KNOCKBACK),
        ("2026/sms-bet.txt", SMS_BET),
        ("2026/sms-open.txt", (SAMPLES / "sms_unparsed_multiline.txt").read_bytes()),
        ("2026/bad file.txt", malformed),
    ]:
        _drop(name, data)
    assert runner.drain(timeout_s=60) >= 5

    bet = api.get("/bets/7000001").json_body
    assert bet["customer_id"] == "E2E1" and bet["each_way"] and bet["stake_minor"] == 1000 and bet["lines"] == 2
    assert datetime.fromisoformat(bet["placed_at"]) == WHEN and bet["ingested_by"] == "bet-file"
    sms_bet = api.get("/bets/7000002").json_body
    assert sms_bet["channel"] == "sms" and sms_bet["stake_minor"] == 1000 and sms_bet["each_way"]

    (kb,) = api.get("/knockbacks?customer_id=E2E1").json_body["knockbacks"]
    assert kb["knockback"]["liability_exceeded"] and kb["knockback"]["max_stake_minor"] == 250
    cust = api.get("/customers/E2E1").json_body
    assert cust["bets_total"] == 2 and cust["knockbacks_total"] == 1
    assert cust["knockback_windows"]["7d"] == {"knockbacks": 1, "kb_pct": pytest.approx(33.3)}

    (open_req,) = api.get("/sms-requests").json_body["requests"]
    assert open_req["wager_number"] == "5550125" and open_req["status"] == "open"
    assert api.get("/sms-requests/7000002").json_body["status"] == "recorded"

    types = {r["record_type"] for r in api.get("/feed").json_body["rows"]}
    assert types == {"bet", "knockback", "sms"}
    assert [r["record_id"] for r in api.get("/feed?record_type=knockback").json_body["rows"]] == ["KB-E2E-1"]

    quarantined = _objects("quarantine/")
    assert quarantined["quarantine/2026/bad file.txt"] == malformed
    note = json.loads(quarantined["quarantine/2026/bad file.txt.error.json"])
    assert note["line"] == 4 and "payment" in note["error"]
    assert set(_objects("incoming/")) == {
        f"incoming/2026/{n}" for n in ("bet.txt", "kb.txt", "sms-bet.txt", "sms-open.txt")
    }

    # The same files again (re-uploaded, one under another name): nothing new anywhere.
    rows_before = api.get("/feed?limit=500").json_body["rows"]
    for name, data in [("2026/bet.txt", BET), ("2026/kb-again.txt", KNOCKBACK), ("2026/sms-bet.txt", SMS_BET)]:
        _drop(name, data)
    runner.drain(timeout_s=60)
    assert api.get("/feed?limit=500").json_body["rows"] == rows_before
    again = api.get("/customers/E2E1").json_body
    assert (again["bets_total"], again["knockbacks_total"]) == (2, 1)
