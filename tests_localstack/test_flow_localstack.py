"""The whole flow on LocalStack, with every AWS-side hop real:

POST /bets (chalice.test.Client) -> presigned POST to LocalStack S3 (requests) -> LocalStack's own
S3→SQS notification -> slip function -> clustering queue -> Chalice consumer -> an EventBridge rate
rule firing on LocalStack, delivered to the schedule's SQS queue -> evaluate_rules -> SNS -> SMS
(LocalStack's record), email (via SES) and SQS subscribers with the declared filter policies.
DynamoDB is moto's server. The local runner plays only Lambda's part: polling the queues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.core import resources
from tests.helpers import Api, Scenario, make_api
from tests_localstack.conftest import EMAIL, PHONE, STAGE, Inbox

SCHEDULE = resources.schedule("evaluate-rules")
# One tick of LocalStack's rule scheduler is ~60 s; allow one full tick after the data is ready.
SCHEDULE_WAIT_S = 75


class Recording:
    """Wraps a schedule handler: records each event it is invoked with."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self.handler = handler
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.handler(event, context)


@pytest.fixture
def system(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any, Recording]]:
    from chalicelib import wiring
    from chalicelib.core import aws, config
    from functions.slip_scoring import handler
    from local.handlers import resolve_handlers
    from local.runner import EventRunner

    # No BETWATCH_JWT_SECRET: the signing key is read from Secrets Manager, as deployed.
    monkeypatch.delenv("BETWATCH_JWT_SECRET", raising=False)
    config.reset()
    wiring.use(None)
    handler._processor = None
    import app as app_module

    queue_handlers, schedule_handlers = resolve_handlers()
    recording = Recording(schedule_handlers[SCHEDULE.logical])
    # schedule_seconds=0: no timer of the runner's own; the schedule runs only when EventBridge says.
    runner = EventRunner(
        dict(provisioned),
        aws.client("sqs"),
        queue_handlers,
        {SCHEDULE.logical: recording},
        wait_time_s=1,
        schedule_seconds=0,
    )
    with Client(app_module.app, stage_name="local") as client:
        yield make_api(client), runner, recording


def _upload(api: Api, bet_id: str, data: bytes) -> None:
    """The client's way: the presigned POST from the API, sent to LocalStack's S3 with requests."""
    post = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"}).json_body
    assert post["url"].startswith("http://127.0.0.1:"), post["url"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("slip.jpg", data, "image/jpeg")}, timeout=30)
    assert r.status_code in (200, 201, 204), (r.status_code, r.text[:500])


def _until(runner: Any, done: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Let the runner poll (as Lambda's event sources would) until `done()`; returns seconds waited."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        runner.poll_once(wait_time_s=1)
    return time.monotonic() - started


def _localstack_get(endpoint: str, path: str, **params: str) -> Any:
    r = requests.get(f"{endpoint}{path}", params=params, timeout=10)
    r.raise_for_status()
    return r.json()


def _sms(endpoint: str, topic_arn: str) -> list[dict[str, Any]]:
    """The SMS LocalStack 'sent' to PHONE (its record is per account and region)."""
    _, _, _, region, account, _ = topic_arn.split(":")
    got = _localstack_get(endpoint, "/_aws/sns/sms-messages", accountId=account, region=region, phoneNumber=PHONE)
    out = []
    for m in got["sms_messages"].get(PHONE, []):
        text = m["Message"]  # LocalStack keeps the "sms" member of a MessageStructure=json publish as JSON
        out.append({**m, "Message": json.loads(text) if text.startswith('"') else text})
    return out


def test_flow_on_localstack(
    system: tuple[Api, Any, Recording],
    provisioned: dict[str, str],
    alert_inboxes: dict[str, Inbox],
    localstack: Any,
) -> None:
    from chalicelib.core import aws

    api, runner, schedule = system
    now = datetime.now(UTC)

    # Bets: two anonymous writers with slips, one account customer over £500 in 24 h.
    day = Scenario(api, now)
    anon, bad, slips_to_upload = day.anon, day.bad, day.uploads

    # Slips: presigned POST to S3; LocalStack's notification feeds slip-uploads, then clustering.
    for bet_id, data in slips_to_upload:
        _upload(api, bet_id, data)
    all_slips = [b for ids in anon.values() for b in ids]

    def slips_final() -> bool:
        st = [api.get(f"/bets/{b}/slip").json_body["status"] for b in [*all_slips, bad]]
        return all(s in ("clustered", "rejected") for s in st)

    _until(runner, slips_final, 120, "every slip clustered or rejected")
    w1, _ = day.linked_writers(api)

    # The schedule: only LocalStack's rule drives it (the runner's timer is off).
    data_ready = datetime.now(UTC).replace(microsecond=0)
    wanted = {("writer", w1), ("customer", "C9")}

    def alert_subjects() -> set[tuple[str, str]]:
        return {(a["subject"]["kind"], a["subject"]["id"]) for a in api.get("/alerts").json_body["alerts"]}

    def alerted() -> bool:
        fired_after = any(e["time"] >= data_ready.strftime("%Y-%m-%dT%H:%M:%SZ") for e in schedule.events)
        return fired_after and alert_subjects() >= wanted

    waited = _until(runner, alerted, SCHEDULE_WAIT_S, "a scheduled event from LocalStack raising the alerts")
    print(f"\nscheduled event delivered {waited:.0f}s after the data was ready; {len(schedule.events)} so far")
    event = schedule.events[-1]
    rule = aws.client("events").describe_rule(Name=resources.physical_name(STAGE, SCHEDULE.logical))
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [rule["Arn"]] and event["detail"] == {}
    assert event["region"] == "eu-west-2" and event["account"] == rule["Arn"].split(":")[4]
    assert alert_subjects() == wanted

    # SNS: SQS subscribers with each declared subscription's filter policy...
    for inbox in alert_inboxes.values():

        def two_arrived(inbox: Inbox = inbox) -> bool:
            return len(inbox.collect()) >= 2

        _until(runner, two_arrived, 20, "SNS → SQS deliveries")
    email_like, sms_like = alert_inboxes["email"].messages, alert_inboxes["sms"].messages
    assert len(email_like) == 2 and len(sms_like) == 2
    for m in sms_like:
        assert m["Type"] == "Notification" and m["TopicArn"] == provisioned["BETWATCH_TOPIC_ALERTS"]
        assert m["MessageAttributes"]["severity"]["Value"] in ("high", "critical")

    # ...LocalStack's record of the SMS it sent, and the emails SNS handed to SES. LocalStack delivers
    # from a thread pool, and email goes through its SES provider (loaded lazily on first use), so
    # both arrive some time after the SQS copies: wait for them, with the log's tail on a timeout.
    def sms_sent() -> list[dict[str, Any]]:
        return _sms(localstack.endpoint, provisioned["BETWATCH_TOPIC_ALERTS"])

    def emails_to_staff() -> list[dict[str, Any]]:
        emails = _localstack_get(localstack.endpoint, "/_aws/ses")["messages"]
        return [e for e in emails if EMAIL in e["Destination"]["ToAddresses"]]

    sources: tuple[tuple[str, Callable[[], list[dict[str, Any]]]], ...] = (
        ("2 SMS recorded", sms_sent),
        ("2 emails in SES", emails_to_staff),
    )
    for what, got in sources:

        def two(got: Callable[[], list[dict[str, Any]]] = got) -> bool:
            return len(got()) >= 2

        try:
            _until(runner, two, 60, what)
        except AssertionError as e:
            raise AssertionError(f"{e}\nLocalStack log tail:\n{localstack.log_tail()}") from None
    sms = sms_sent()
    assert len(sms) == 2 and all(s["Message"].startswith("betwatch HIGH") for s in sms), sms
    assert len(emails_to_staff()) == 2

    # At least once: the same EventBridge event delivered again raises and sends nothing new.
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=runner.schedule_queue_url(SCHEDULE.logical), MessageBody=json.dumps(event))
    before = len(schedule.events)
    _until(runner, lambda: event in schedule.events[before:], 20, "the redelivered scheduled event")
    assert len(api.get("/alerts").json_body["alerts"]) == 2
    assert len(alert_inboxes["email"].collect(wait_s=2)) == 2
    assert len(sms_sent()) == 2


def test_bet_files_on_localstack(system: tuple[Api, Any, Recording]) -> None:
    """Raw bet files put in LocalStack's S3 under incoming/ -> its S3→SQS notification -> the consumer
    -> bets, knockbacks and SMS requests through the API; a malformed one in quarantine; twice, nothing new."""
    from datetime import timedelta
    from pathlib import Path

    from chalicelib.core import aws
    from chalicelib.core.config import settings
    from chalicelib.domain.uk_time import LONDON

    api, runner, _ = system
    samples = Path(__file__).resolve().parent.parent / "tests" / "events" / "betfiles"
    when = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    uk = f"{when.astimezone(LONDON):%d/%m/%Y %H:%M:%S}"
    files = {
        "bet.txt": (
            f"Wager Number - 8000001 / Customer Reference - LS1\nBet placed on {uk}\n"
            "Ascot, 14:30, - Sea Bird at 5.5\nBets Win Only: 1 Single. Unit Stake: £10.00, Payment: £10.00.\n"
            "Wagers : 1 x £10.00 : Single\n"
        ).encode(),
        "kb.txt": (
            f"Knockback Details: KB-LS-1\nCustomer Ref: LS1\n- Error Message: Liability\n- Liability Exceeded: True\n"
            f"- Maximum stake available: £2.50\n{uk}\n- Meeting Name: Ascot 14:30\n- Selection Name: Sea Bird\n"
            "- Bet Price: 5.5\n- Wager Name: Single\n- Total Stake: £50.00\n"
        ).encode(),
        "sms.txt": (samples / "sms_unparsed_multiline.txt").read_bytes(),
        "bad.txt": (samples / "bet_payment_mismatch.txt").read_bytes(),
    }
    s3, bucket = aws.client("s3"), settings().bucket("bet-files")

    def drop_all() -> None:
        for name, data in files.items():
            s3.put_object(Bucket=bucket, Key=f"incoming/{name}", Body=data)

    def keys(prefix: str) -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}

    def all_in() -> bool:
        return (
            api.get("/bets/8000001").status_code == 200
            and api.get("/knockbacks/KB-LS-1").status_code == 200
            and any(r["wager_number"] == "5550125" for r in api.get("/sms-requests").json_body["requests"])
            and "quarantine/bad.txt.error.json" in keys("quarantine/")
        )

    drop_all()
    _until(runner, all_in, 60, "bet files recorded and the malformed one quarantined")
    note = json.loads(s3.get_object(Bucket=bucket, Key="quarantine/bad.txt.error.json")["Body"].read())
    assert note["line"] == 4 and "payment" in note["error"]
    assert "incoming/bad.txt" not in keys("incoming/")
    rows = api.get("/feed?limit=500").json_body["rows"]
    assert {"bet", "knockback", "sms"} <= {r["record_type"] for r in rows}

    files.pop("bad.txt")
    settle = time.monotonic() + 10  # LocalStack notifies within a second or two
    drop_all()  # the same files again: nothing new

    def handled_again() -> bool:
        return time.monotonic() > settle and not any(runner.pending().values())

    _until(runner, handled_again, 30, "the second drop handled")
    assert api.get("/feed?limit=500").json_body["rows"] == rows
    cust = api.get("/customers/LS1").json_body
    assert (cust["bets_total"], cust["knockbacks_total"]) == (1, 1)
