"""How many AWS API calls (and DynamoDB request units) each path makes: the basis of docs/costs.md.

A botocore `before-call` / `after-call` hook on the one boto3 session of `chalicelib.aws` records
every call made while a path runs in-process (moto). The counts are asserted exactly, so a change
that adds a call fails here and must update docs/costs.md as well.

DynamoDB request units: moto answers ReturnConsumedCapacity with a constant, not the real
consumption, so the units are computed here from the items themselves, as DynamoDB bills them:
the stored size of each item written (moto's `Item.size()`: attribute names + values), 1 WRU per
started 1 KB, x2 inside a transaction; a GetItem 1 RRU per started 4 KB if strongly consistent,
0.5 if eventually consistent; a Query 0.5 RRU per started 4 KB of the full items it returned (not
the projected ones), minimum 0.5. An UpdateItem is sized by the item after the update (DynamoDB
takes the larger of before and after; here after is never smaller).

Paths are measured warm, as on a warm Lambda: API-key lookup cached (60 s), queue URLs cached,
clients created. The SQS ReceiveMessage / DeleteMessageBatch calls are the local runner's, which
stands in for Lambda's event source mapping poller (that poller makes the same calls, billed to
the account, plus empty long polls while idle, which are not per message and not counted here).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from tests.helpers import JWT_SECRET, Api, bet_body, make_api

REGION = "eu-west-2"


@dataclass
class Recorder:
    calls: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0  # DynamoDB read request units
    wru: float = 0.0  # DynamoDB write request units (transaction items counted twice)
    items_written: int = 0
    on: bool = False
    _pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if not self.on:
            return
        service = model.service_model.service_name
        name = f"{service}:{model.name}"
        self.calls[name] += 1
        body: dict[str, Any] = {}
        if service == "dynamodb" and params.get("body"):
            raw = params["body"]
            body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        self._pending.append((name, body))

    def after(self, model: Any, http_response: Any, **_: Any) -> None:
        if not self.on or not self._pending:
            return
        name, body = self._pending.pop()
        if not name.startswith("dynamodb:"):
            return
        op = name.split(":", 1)[1]
        if op == "GetItem":
            size = _size(body["TableName"], body["Key"])
            self.rru += _read_units(size, consistent=bool(body.get("ConsistentRead")))
        elif op == "Query":
            table = _table(body["TableName"])
            keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            returned = json.loads(http_response.content).get("Items", [])
            hash_value = _hash_value(body, table.hash_key_attr)  # not in projected items
            total = sum(_size(body["TableName"], {k: i.get(k, hash_value) for k in keys if k}) for i in returned)
            self.rru += _read_units(total, consistent=bool(body.get("ConsistentRead")))
        elif op in ("PutItem", "UpdateItem"):
            key = body.get("Key") or _key_of(body["TableName"], body["Item"])
            self.wru += _write_units(_size(body["TableName"], key))
            self.items_written += 1
        elif op == "TransactWriteItems":
            for entry in body["TransactItems"]:
                ((kind, spec),) = entry.items()
                if kind == "ConditionCheck":
                    self.wru += 2  # billed like a write of the item checked (<= 1 KB here)
                    continue
                key = spec.get("Key") or _key_of(spec["TableName"], spec["Item"])
                self.wru += 2 * _write_units(_size(spec["TableName"], key))
                self.items_written += 1
        else:  # pragma: no cover - a new kind of DynamoDB call: size it here
            raise AssertionError(f"no capacity rule for {op}")

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())), "rru": self.rru, "wru": self.wru}


def _table(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(name)


def _hash_value(body: dict[str, Any], attr: str) -> Any:
    names = {v: k for k, v in body.get("ExpressionAttributeNames", {}).items()}
    ref = re.escape(names.get(attr, attr))
    m = re.search(rf"{ref}\s*=\s*(:\w+)", body["KeyConditionExpression"])
    return body["ExpressionAttributeValues"][m.group(1)] if m else None  # None: an index query


def _key_of(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    t = _table(table_name)
    return {k: item[k] for k in (t.hash_key_attr, t.range_key_attr) if k}


def _size(table_name: str, key: dict[str, Any]) -> int:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    item = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_item(table_name, key)
    return int(item.size()) if item is not None else 0


def _read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@pytest.fixture
def system(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any, Recorder]]:
    import app as app_module
    from chalicelib import wiring
    from chalicelib.core import aws, config
    from local.handlers import resolve_handlers
    from local.runner import EventRunner

    monkeypatch.setenv("BETWATCH_JWT_SECRET", JWT_SECRET)
    config.reset()
    wiring.use(None)
    from functions.slip_scoring import handler

    handler._processor = None
    # A fresh session with the hooks registered before any client exists: every client created
    # from it (clients copy the session's event emitter) carries them.
    aws.reset()
    rec = Recorder()
    events = aws._boto_session().events
    events.register("before-call.*.*", rec.before, unique_id="betwatch-count-before")
    events.register("after-call.*.*", rec.after, unique_id="betwatch-count-after")
    queue_handlers, schedule_handlers = resolve_handlers()
    runner = EventRunner(dict(provisioned), aws.client("sqs"), queue_handlers, schedule_handlers)
    with Client(app_module.app) as client:
        api = make_api(client)
        runner.drain(timeout_s=30)  # the S3 test event, queue URLs and ARNs cached
        yield api, runner, rec
    aws.reset()


@contextmanager
def measure(rec: Recorder, label: str) -> Iterator[Recorder]:
    rec.calls.clear()
    rec.rru = rec.wru = 0.0
    rec.items_written = 0
    rec.on = True
    try:
        yield rec
    finally:
        rec.on = False
        print(f"\n{label}: {json.dumps(rec.snapshot())}")


def _slip_bytes() -> bytes:
    from local.slipgen import make_slip

    return make_slip(writer_seed=1, slip_seed=0)


def _put_slip(post: dict[str, Any], data: bytes) -> None:
    from chalicelib.core import aws
    from chalicelib.core.config import settings

    # moto intercepts boto3, not form POSTs: put the object where the presigned POST would.
    aws.client("s3").put_object(
        Bucket=settings().bucket("slips"), Key=post["object_key"], Body=data, ContentType="image/jpeg"
    )


def _hours(start: datetime, end: datetime) -> int:
    hour, n = start.replace(minute=0, second=0, microsecond=0), 0
    while hour <= end + timedelta(minutes=1):
        n, hour = n + 1, hour + timedelta(hours=1)
    return n


def _run_queue(runner: Any, logical: str) -> int:
    """One poll of one queue as Lambda's poller does it: receive a batch, invoke, delete."""
    messages = runner._receive(logical, 0)
    assert messages, f"nothing on {logical}"
    result = runner.invoke_queue(logical, messages)
    assert not result.failed, result.error
    return len(messages)


def test_post_bet(system: tuple[Api, Any, Recorder]) -> None:
    api, _, rec = system
    now = datetime.now(UTC)
    for h in (30, 20, 10):  # history: three earlier bets of C100 (and the API key cached)
        r = api.post("/bets", bet_body(placed_at=(now - timedelta(hours=h)).isoformat()))
        assert r.status_code == 201, r.body

    with measure(rec, "POST /bets, known customer with history"):
        assert api.post("/bets", bet_body(placed_at=(now - timedelta(minutes=1)).isoformat())).status_code == 201
    assert rec.snapshot() == {
        "calls": {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:TransactWriteItems": 1},
        # GetItem bet (consistent, absent) 1 + Query of the customer's BET# items 0.5
        "rru": 1.5,
        # bet + feed item + customer BET# item + PROFILE + activity marker + day marker + the bet's entry in
        # its event's open-bets index (what POST /results Queries), each <= 1 KB, x2
        "wru": 14.0,
    }
    assert rec.items_written == 7

    with measure(rec, "POST /bets, anonymous"):
        assert api.post("/bets", bet_body(customer_id=None)).status_code == 201
    assert rec.snapshot() == {
        "calls": {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1},
        "rru": 1.0,
        "wru": 6.0,  # the bet, its feed item and its event index entry, in a three-item transaction
    }


def test_slip(system: tuple[Api, Any, Recorder]) -> None:
    api, runner, rec = system
    data = _slip_bytes()
    # Warm up: one slip all the way through (the functions' queue-URL caches, a first writer).
    first = api.post("/bets", bet_body(customer_id=None)).json_body["bet_id"]
    _put_slip(api.post(f"/bets/{first}/slip", {"content_type": "image/jpeg"}).json_body, data)
    runner.drain(timeout_s=60)
    bet_id = api.post("/bets", bet_body(customer_id=None)).json_body["bet_id"]

    with measure(rec, "POST /bets/{id}/slip (presign)"):
        post = api.post(f"/bets/{bet_id}/slip", {"content_type": "image/jpeg"}).json_body
    assert rec.snapshot() == {  # the presigned POST is signed locally: no call
        "calls": {"dynamodb:GetItem": 1, "dynamodb:PutItem": 1},
        "rru": 1.0,
        "wru": 1.0,
    }

    with measure(rec, "client upload (stand-in for the browser's presigned POST)"):
        _put_slip(post, data)
    assert rec.snapshot() == {"calls": {"s3:PutObject": 1}, "rru": 0.0, "wru": 0.0}

    with measure(rec, "slip function (S3 event via slip-uploads queue)"):
        assert _run_queue(runner, "slip-uploads") == 1
    assert rec.snapshot() == {
        "calls": {
            "dynamodb:GetItem": 1,
            "dynamodb:UpdateItem": 1,
            "s3:GetObject": 1,
            "sqs:DeleteMessageBatch": 1,
            "sqs:ReceiveMessage": 1,
            "sqs:SendMessage": 1,
        },
        "rru": 1.0,  # the slip record, consistent
        "wru": 1.0,  # the slip record with its embedding (47 numbers), still <= 1 KB
    }

    from chalicelib import wiring
    from chalicelib.services.writer_index import OVERLAP

    cache = wiring.container().writer_index
    assert cache.seen_until is not None
    since = cache.seen_until - OVERLAP
    with measure(rec, "clustering consumer (slip-clustering queue)"):
        assert _run_queue(runner, "slip-clustering") == 1
    hours = _hours(since, datetime.now(UTC))
    assert rec.snapshot() == {
        "calls": {
            "dynamodb:GetItem": 3,
            "dynamodb:Query": 8 * hours,
            "dynamodb:TransactWriteItems": 1,
            "dynamodb:UpdateItem": 1,  # the feed row shows the writer
            "sqs:DeleteMessageBatch": 1,
            "sqs:ReceiveMessage": 1,
        },
        # writer deltas since the container's last look (8 shards per hour, once per batch) 0.5 each,
        # slip record 1 + bet 1 + the joined writer's item 1, all consistent
        "rru": 0.5 * 8 * hours + 3,
        # slip, writer item, its delta, writer SLIP#, writer BET#, writer PROFILE, activity and day
        # markers: 8 items x2; the feed row's writer 1
        "wru": 17.0,
    }
    assert rec.items_written == 9
    assert api.get(f"/bets/{bet_id}/slip").json_body["status"] == "clustered"


N_SUBJECTS = 4


def _buckets(start: datetime, end: datetime) -> int:
    from chalicelib.adapters.dynamodb import keys

    n, bucket = 0, keys.activity_bucket(start)
    while bucket <= end:
        n, bucket = n + 1, bucket + timedelta(minutes=keys.ACTIVITY_BUCKET_MINUTES)
    return n


@pytest.mark.parametrize("stored", [N_SUBJECTS, 10 * N_SUBJECTS])
def test_rule_schedule(system: tuple[Api, Any, Recorder], stored: int) -> None:
    """A run evaluates only subjects with new activity: `stored` earlier customers cost nothing."""
    from chalicelib import wiring
    from chalicelib.adapters.dynamodb import keys

    api, runner, rec = system
    now = datetime.now(UTC)
    for i in range(stored):  # customers who bet before the last run
        r = api.post(
            "/bets", bet_body(customer_id=f"OLD{i}", stake="10.00", placed_at=(now - timedelta(hours=3)).isoformat())
        )
        assert r.status_code == 201, r.body
    runner.fire("evaluate-rules", now)  # the previous run: its checkpoint is behind them
    activity = wiring.container().adapters.activity
    checkpoint = activity.checkpoint("evaluate-rules")
    assert checkpoint is not None
    # N active customers since; one of them over the threshold, so one alert.
    for i in range(N_SUBJECTS):
        stake = "600.00" if i == 0 else "10.00"
        r = api.post(
            "/bets", bet_body(customer_id=f"C{i}", stake=stake, placed_at=(now - timedelta(hours=2)).isoformat())
        )
        assert r.status_code == 201, r.body

    with measure(rec, f"rule schedule, {N_SUBJECTS} new active subjects of {stored + N_SUBJECTS}, 1 alert"):
        result = runner.fire("evaluate-rules", now)
    assert result == {"raised": 1, "published": 1}
    end = activity.checkpoint("evaluate-rules")
    assert end is not None
    queries = keys.ACTIVITY_SHARDS * _buckets(checkpoint, end) + N_SUBJECTS + 1
    assert rec.snapshot() == {
        "calls": {
            # the activity index (shards x 5-minute buckets since the checkpoint), one Query of each
            # new subject's bets, the outbox index; the checkpoint read and written
            "dynamodb:Query": queries,
            "dynamodb:GetItem": 1,
            "dynamodb:PutItem": 1,
            "dynamodb:TransactWriteItems": 1,  # rule state + snooze check + alert
            "dynamodb:UpdateItem": 1,  # alert marked published
            "sns:Publish": 1,
        },
        "rru": 0.5 * queries + 1,
        "wru": 3 * 2 + 1 + 1,
    }
