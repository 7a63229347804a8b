"""The whole flow in-process: POST /bets -> slip upload -> S3 notification -> SQS -> slip function
-> clustering queue -> Chalice consumer -> scheduled rules -> SNS, driven by the local event runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from tests.helpers import Api, Scenario, bet_body, make_api

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any]]:
    from chalicelib import wiring
    from chalicelib.core import config
    from functions.slip_scoring import handler
    from local.handlers import resolve_handlers
    from local.runner import EventRunner

    # No BETWATCH_JWT_SECRET: the signing key is read from Secrets Manager, as deployed.
    monkeypatch.delenv("BETWATCH_JWT_SECRET", raising=False)
    config.reset()
    wiring.use(None)
    handler._processor = None
    import app as app_module
    from chalicelib.core import aws

    queue_handlers, schedule_handlers = resolve_handlers()
    runner = EventRunner(dict(provisioned), aws.client("sqs"), queue_handlers, schedule_handlers)
    with Client(app_module.app) as client:
        yield make_api(client), runner


def _upload(api: Api, bet_id: str, data: bytes) -> str:
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    post = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"}).json_body
    # moto intercepts boto3, not form POSTs: put the object where the presigned POST would.
    aws.client("s3").put_object(
        Bucket=settings().bucket("slips"), Key=post["object_key"], Body=data, ContentType="image/jpeg"
    )
    return str(post["object_key"])


def _sns_published() -> list[tuple[Any, ...]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    from chalicelib.core.config import settings

    topic = sns_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].topics[settings().topic_arn("alerts")]
    return list(topic.sent_notifications)


def test_bets_slips_writers_rules_and_alerts(system: tuple[Api, Any]) -> None:
    api, runner = system
    now = datetime.now(UTC)
    day = Scenario(api, now)
    for bet_id, data in day.uploads:
        _upload(api, bet_id, data)

    handled = runner.drain(timeout_s=60)
    assert handled >= 12  # 6 uploads, then 5 clustering messages (plus any S3 test event)

    w1, w2 = day.linked_writers(api)
    assert len(api.get(f"/writers/{w1}").json_body["slips"]) == 3
    assert w2 in api.get("/customers/C7").json_body["linked"]

    runner.fire("evaluate-rules", now)
    alerts = api.get("/alerts").json_body["alerts"]
    assert {(a["subject"]["kind"], a["subject"]["id"]) for a in alerts} == {("writer", w1), ("customer", "C9")}
    for a in alerts:  # each readable by id, with the bets behind it
        one = api.get(f"/alerts/{a['alert_id']}").json_body
        assert one["status"] == "open" and one["evidence"]["bet_ids"] and one["published_at"]
    writer_alert = next(a for a in alerts if a["subject"]["kind"] == "writer")
    assert sorted(writer_alert["evidence"]["slip_ids"]) == sorted(day.anon[1])
    sent = _sns_published()
    assert len(sent) == 2 and all(json.loads(m[1])["sms"].startswith("betwatch HIGH") for m in sent)

    # At least once: the same schedule event again, and the same S3 object again, change nothing.
    runner.fire("evaluate-rules", now)
    runner.fire("evaluate-rules", now + timedelta(minutes=5))
    assert len(_sns_published()) == 2 and len(api.get("/alerts").json_body["alerts"]) == 2


def test_same_object_twice_gives_one_record_and_one_assignment(system: tuple[Api, Any]) -> None:
    from chalicelib.core import aws
    from chalicelib.core.config import settings
    from chalicelib.domain.slips import ClusteringMessage, S3ObjectRef
    from functions.slip_scoring.handler import processor
    from local.slipgen import make_slip

    api, runner = system
    bet_id = api.post("/bets", bet_body(customer_id=None)).json_body["bet_id"]
    key = _upload(api, bet_id, make_slip(writer_seed=3, slip_seed=1))
    ref = S3ObjectRef(bucket=settings().bucket("slips"), key=key, size=0)
    runner.drain(timeout_s=30)
    first = api.get(f"/bets/{bet_id}/slip").json_body
    assert first["status"] == "clustered"
    assert processor().process(ref) == "duplicate"  # a redelivered notification
    # and a redelivered clustering message
    msg = ClusteringMessage(bet_id=bet_id, object_key=key, embedding=[0.5] * 8, model_version="x")
    aws.client("sqs").send_message(QueueUrl=runner.queue_url("slip-clustering"), MessageBody=msg.model_dump_json())
    runner.drain(timeout_s=30)
    assert api.get(f"/bets/{bet_id}/slip").json_body["writer_id"] == first["writer_id"]
    writer = api.get(f"/writers/{first['writer_id']}").json_body
    assert writer["slips"] == [bet_id] and writer["bets_total"] == 1


def test_velocity_on_the_bet_path_and_structuring_on_the_schedule(system: tuple[Api, Any]) -> None:
    api, runner = system
    now = datetime.now(UTC)
    for i in range(10):  # ten bets within a minute: the tenth raises the velocity alert as it is recorded
        r = api.post(
            "/bets", bet_body(customer_id="FAST", stake="2.00", placed_at=(now - timedelta(seconds=50 - i)).isoformat())
        )
        assert r.status_code == 201
    velocity = [a for a in api.get("/alerts").json_body["alerts"] if a["rule_id"] == "velocity_customer"]
    assert len(velocity) == 1 and velocity[0]["subject"]["id"] == "FAST" and velocity[0]["published_at"]
    assert len(_sns_published()) == 1  # sent at once, not at the next schedule

    for i, (stake, shop) in enumerate([("460.00", "S01"), ("475.00", "S02"), ("490.00", "S03")]):
        placed = (now - timedelta(hours=3 - i)).isoformat()
        assert (
            api.post("/bets", bet_body(customer_id="SPLIT", stake=stake, shop_id=shop, placed_at=placed)).status_code
            == 201
        )
    assert not [a for a in api.get("/alerts").json_body["alerts"] if a["subject"]["id"] == "SPLIT"]
    runner.fire("evaluate-rules", now)
    split = {a["rule_id"]: a for a in api.get("/alerts").json_body["alerts"] if a["subject"]["id"] == "SPLIT"}
    assert set(split) == {"structuring_customer", "stake_window_customer"}
    assert split["structuring_customer"]["evidence"]["shops"] == ["S01", "S02", "S03"]
    sent = _sns_published()
    assert len(sent) == 3  # velocity + structuring + stake, each once
    runner.fire("evaluate-rules", now + timedelta(minutes=5))
    assert len(_sns_published()) == 3


def test_the_daily_report_is_written_by_the_schedule(system: tuple[Api, Any]) -> None:
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    api, runner = system
    now = datetime.now(UTC)
    stakes = ["12.00", "30.00", "7.50"]
    for s in stakes:
        assert (
            api.post("/bets", bet_body(stake=s, placed_at=(now - timedelta(minutes=5)).isoformat())).status_code == 201
        )
    runner.fire("daily-report", now)
    s3 = aws.client("s3")
    key = f"daily/{now.date().isoformat()}"
    report = json.loads(s3.get_object(Bucket=settings().bucket("reports"), Key=f"{key}.json")["Body"].read())
    assert report["totals"]["bets"] == 3 and report["totals"]["stake_minor"] == 4950
    html = s3.get_object(Bucket=settings().bucket("reports"), Key=f"{key}.html")["Body"].read().decode()
    assert "<svg" in html and "£49.50" in html
