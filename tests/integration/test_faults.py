"""Fault injection on moto at every AWS call site (tests/faults.py: throttle, 5xx, timeout, a
request applied whose answer is lost, transaction conflicts), through botocore's real retries:

- bets: 0 lost acknowledged bets, 0 duplicates, profile totals exact; what still fails after the
  retries is a 503 with Retry-After in the one error shape, and the client's retry with the same
  Idempotency-Key records the bet exactly once;
- queues: a message whose handling fails is redelivered until done, or lands in the DLQ;
- alerts: raised once each; the SNS outbox is drained after recovery, each alert published once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core import aws, config
from chalicelib.domain.subjects import SubjectRef
from tests.faults import Faults, shield_moto
from tests.helpers import bet_body, recent_noon

NOON = recent_noon()  # daytime, 1-20 h ago: rules at the real clock see its bets


@pytest.fixture
def faults(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    from botocore.retries import standard

    # botocore's real retry decisions, without its real waits (up to 1+2+4+8 s per call).
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    shield_moto(monkeypatch)
    f = Faults()
    for service in ("dynamodb", "sqs", "sns", "s3"):
        f.arm(aws.client(service))
    yield f
    f.clear()


@pytest.fixture
def api(faults: Faults) -> Iterator[tuple[Client, str]]:
    import app as app_module

    wiring.use(None)
    key = wiring.container().access.create_api_key("till-S01", "ingest")
    with Client(app_module.app) as client:
        yield client, key


def _post(api: tuple[Client, str], body: dict[str, Any], idem: str) -> Any:
    client, key = api
    headers = {"x-api-key": key, "content-type": "application/json", "idempotency-key": idem}
    return client.http.post("/bets", body=json.dumps(body), headers=headers)


def _bet(i: int, customer: str = "C1") -> dict[str, Any]:
    return bet_body(customer_id=customer, stake=f"{i + 1}.00", placed_at=(NOON + timedelta(seconds=i)).isoformat())


def _totals(customer: str = "C1") -> tuple[int, int]:
    p = wiring.container().adapters.subjects.profile(SubjectRef.customer(customer))
    return (p.bets_total, p.stake_total_minor) if p else (0, 0)


def _count_bets() -> int:
    # Tests may Scan to prove what was written; the app never does.
    table = config.settings().table("bets")
    return int(aws.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


@pytest.mark.parametrize("kind", ["throttle", "5xx", "timeout", "lost", "conflict"])
@pytest.mark.parametrize("op", ["TransactWriteItems", "GetItem", "Query"])
def test_transient_faults_on_the_bet_path_are_absorbed(
    api: tuple[Client, str], faults: Faults, op: str, kind: str
) -> None:
    if kind == "conflict" and op != "TransactWriteItems":
        pytest.skip("conflicts are a transaction's answer")
    _post(api, _bet(0), "warm-up")  # the key lookup is cached from here on
    faults.plan(f"dynamodb.{op}", kind, kind)
    r = _post(api, _bet(1), "bet-1")
    assert r.status_code in (200, 201), r.body  # "lost": the retry finds the bet it wrote: a replay
    assert faults.injected, "no fault was injected"
    assert _count_bets() == 2 and _totals() == (2, 300)


@pytest.mark.parametrize("kind", ["throttle", "5xx", "timeout", "conflict"])
def test_exhausted_retries_are_a_503_and_the_retry_records_exactly_once(
    api: tuple[Client, str], faults: Faults, kind: str
) -> None:
    _post(api, _bet(0), "warm-up")
    faults.always("dynamodb.TransactWriteItems", kind)
    r = _post(api, _bet(1), "bet-1")
    assert r.status_code == 503, r.body
    body = json.loads(r.body)
    assert set(body) <= {"error", "message", "details"} and body["error"] == "unavailable"
    assert int(r.headers["Retry-After"]) >= 1
    assert _count_bets() == 1 and _totals() == (1, 100), (faults.injected, faults.calls)  # nothing half-written
    faults.clear()
    again = _post(api, _bet(1), "bet-1")
    assert again.status_code == 201 and json.loads(again.body)["replayed"] is False
    assert _post(api, _bet(1), "bet-1").status_code == 200
    assert _count_bets() == 2 and _totals() == (2, 300)


def test_a_storm_of_faults_loses_no_acknowledged_bet_and_duplicates_none(
    api: tuple[Client, str], faults: Faults
) -> None:
    """A till that retries with its Idempotency-Key until it gets an answer, while 30 % of every
    DynamoDB call fails (each kind, including applied-then-lost)."""
    _post(api, _bet(0, "C0"), "warm-up")
    faults.rate("dynamodb.*", 0.3, "throttle", "5xx", "timeout", "lost", "conflict")
    acknowledged: dict[str, str] = {}
    answers: list[int] = []
    for i in range(40):
        customer = f"C{i % 3 + 1}"  # three customers: concurrent profile updates on few items
        for _attempt in range(20):
            r = _post(api, _bet(i, customer), f"storm-{i}")
            answers.append(r.status_code)
            assert r.status_code in (200, 201, 503), r.body
            if r.status_code != 503:
                acknowledged[f"storm-{i}"] = json.loads(r.body)["bet_id"]
                break
    faults.clear()
    assert len(acknowledged) == 40 and sum(faults.injected.values()) > 20, faults.injected
    assert answers.count(201) + answers.count(200) >= 40
    bets = wiring.container().recorder
    assert all(bets.get(bet_id) is not None for bet_id in acknowledged.values())
    assert _count_bets() == 41
    expected = {c: (0, 0) for c in ("C1", "C2", "C3")}
    for i in range(40):
        c = f"C{i % 3 + 1}"
        expected[c] = (expected[c][0] + 1, expected[c][1] + (i + 1) * 100)
    assert {c: _totals(c) for c in expected} == expected


def test_sqs_messages_are_redelivered_until_done_or_dead_lettered(provisioned: dict[str, str], faults: Faults) -> None:
    from chalicelib.core import resources
    from local.runner import EventRunner

    calls: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A consumer whose DynamoDB write fails while faults are on (what cluster_slips does on a
        # busy table): the record is reported failed, so SQS keeps it.
        failed = []
        for record in event["Records"]:
            calls.append(record["body"])
            try:
                wiring.container().adapters.principals.api_key(record["body"])
            except Exception:
                failed.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failed}

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=config.settings().queue("slip-clustering"))["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    runner = EventRunner(provisioned, sqs, {"slip-clustering": handler}, {}, wait_time_s=0)

    faults.plan("sqs.SendMessage", "throttle", "5xx")  # the producer's send is retried by botocore
    sqs.send_message(QueueUrl=url, MessageBody="bet-recovers")
    faults.plan("dynamodb.GetItem", *["5xx"] * 10)  # more than one delivery's botocore retries
    for _ in range(6):
        runner.poll_once()
    assert not faults.plans["dynamodb.GetItem"] and faults.injected["sqs.SendMessage:throttle"] == 1
    assert calls.count("bet-recovers") >= 2 and runner.pending().get("slip-clustering", 0) == 0

    faults.always("dynamodb.GetItem", "throttle")
    sqs.send_message(QueueUrl=url, MessageBody="bet-never")
    max_receive = resources.queue("slip-clustering").max_receive_count
    for _ in range(max_receive + 3):
        runner.poll_once()
    faults.clear()
    assert calls.count("bet-never") == max_receive
    dlq = sqs.get_queue_url(QueueName=config.settings().queue("slip-clustering") + "-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["bet-never"]


def test_alerts_are_raised_once_and_the_outbox_drains_after_recovery(api: tuple[Client, str], faults: Faults) -> None:
    c = wiring.container()
    faults.always("sns.Publish", "5xx")
    for i, stake in enumerate(["300.00", "250.00"]):
        body = bet_body(customer_id="C9", stake=stake, placed_at=(NOON + timedelta(minutes=i)).isoformat())
        assert _post(api, body, f"c9-{i}").status_code == 201
    with pytest.raises(RuntimeError, match="stay in the outbox"):
        c.monitor.run(NOON + timedelta(minutes=5))
    with pytest.raises(RuntimeError, match="stay in the outbox"):
        c.monitor.run(NOON + timedelta(minutes=6))  # a retried schedule: nothing new is raised
    pending = c.adapters.alerts.pending(100)
    assert len(pending) == 1 and faults.injected["sns.Publish:5xx"] >= 10
    faults.clear()
    result = c.monitor.run(NOON + timedelta(minutes=7))
    assert result == {"raised": 0, "published": 1}
    assert c.adapters.alerts.pending(100) == []
    assert faults.calls["sns.Publish"] == faults.injected["sns.Publish:5xx"] + 1  # published exactly once
    assert c.monitor.run(NOON + timedelta(minutes=8)) == {"raised": 0, "published": 0}


@pytest.mark.parametrize("kind", ["lost", "conflict", "throttle"])
def test_a_slip_is_assigned_once_whatever_fails(api: tuple[Client, str], faults: Faults, kind: str) -> None:
    import numpy as np

    from chalicelib.services.clustering import StaleSlip

    c = wiring.container()
    r = _post(api, _bet(0, "C5"), "slip-bet")
    bet_id = json.loads(r.body)["bet_id"]
    key = c.uploads.start(bet_id, "image/jpeg")["object_key"]
    vec = np.zeros(48)
    vec[0] = 1.0
    assert c.adapters.slips.mark_embedded(bet_id, key, list(vec), "m", None, NOON)
    msg = c.adapters.slips.clustering_message(bet_id)
    assert msg is not None
    faults.plan("dynamodb.TransactWriteItems", kind, kind)
    try:
        writer_id, _ = c.clusterer().assign(msg)
    except StaleSlip:  # "lost": the retry found its own write done; the consumer counts that as done
        writer_id = str(c.uploads.status(bet_id).writer_id)
    faults.clear()
    with pytest.raises(StaleSlip):
        c.clusterer().assign(msg)  # the redelivered message changes nothing
    assert c.uploads.status(bet_id).status == "clustered" and c.uploads.status(bet_id).writer_id == writer_id
    writer = c.adapters.subjects.profile(SubjectRef.writer(writer_id))
    assert writer is not None and (writer.bets_total, writer.stake_total_minor) == (1, 100)
    assert c.profiles.summary(SubjectRef.customer("C5")).slips == [bet_id]
