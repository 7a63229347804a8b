"""local/moto_patches.py on the embedded server: safe concurrency, atomic transactions, DynamoDB's answers."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto
import pytest
import requests
from botocore.exceptions import ClientError

from local import moto_patches
from local.moto_server import MotoServer
from tests.integration.conftest import bet_transaction, client_for, create_table, profile

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_and_pinned_moto_is_the_one_patched(server: MotoServer) -> None:
    pinned = re.search(r"^moto\[server\]==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M)
    assert pinned and pinned.group(1) == moto_patches.MOTO_VERSION
    assert moto.__version__ == moto_patches.MOTO_VERSION
    assert moto_patches.applied()


def test_another_moto_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(RuntimeError, match=r"patches moto 5\.2\.5.*5\.3\.0 is installed"):
        moto_patches.check_version()


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Threads switch far more often than usual, so races show up in a short test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def _seed(ddb: Any, table: str, n: int) -> None:
    for i in range(n):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"SEED#{i}"}, "sk": {"S": "x"}, "doc": {"S": "d" * 200}})


def test_concurrent_add_updates_from_8_threads_give_exact_totals(
    ddb: Any, table: str, in_threads: Any, busy_switching: None
) -> None:
    _seed(ddb, table, 300)
    # Every 5th request retries an earlier bet: its transaction is cancelled and must undo nothing else.
    bets = [(f"C{i % 3}", f"b{i - 3 if i % 5 == 4 else i}", i % 7 + 1) for i in range(200)]

    def store(customer: str, bet: str, stake: int) -> bool:
        try:
            ddb.transact_write_items(TransactItems=bet_transaction(table, customer, bet, stake))
            return True
        except ClientError as e:
            assert e.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"
            return False

    stored = [b for b, ok in zip(bets, in_threads(store, bets), strict=True) if ok]
    assert len(stored) == 160
    for customer in ("C0", "C1", "C2"):
        mine = [s for c, _, s in stored if c == customer]
        item = profile(ddb, table, customer)
        assert item is not None
        assert (int(item["bets_total"]["N"]), int(item["stake_total"]["N"])) == (len(mine), sum(mine))
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 300 + 160 * 2 + 3


def test_concurrent_retries_of_one_bet_store_it_once(ddb: Any, table: str, in_threads: Any) -> None:
    def attempt(_: int) -> str:
        try:
            ddb.transact_write_items(TransactItems=bet_transaction(table, "C9", "same", 5))
            return "stored"
        except ClientError as e:
            return str(e.response["CancellationReasons"][0]["Code"])

    outcomes = in_threads(attempt, [(i,) for i in range(16)])
    assert sorted(set(outcomes)) == ["ConditionalCheckFailed", "stored"] and outcomes.count("stored") == 1
    item = profile(ddb, table, "C9")
    assert item is not None and item["bets_total"]["N"] == "1" and item["stake_total"]["N"] == "5"


def test_reads_during_concurrent_writes_never_fail(ddb: Any, table: str, in_threads: Any, busy_switching: None) -> None:
    _seed(ddb, table, 300)

    def write(i: int) -> None:
        ddb.transact_write_items(TransactItems=bet_transaction(table, f"C{i % 4}", f"r{i}", 1))

    def read(i: int) -> None:
        ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "C1"}})
        ddb.scan(TableName=table, Limit=50)

    in_threads(lambda i: write(i) if i % 2 else read(i), [(i,) for i in range(200)])


def test_a_failed_condition_cancels_the_transaction_and_changes_nothing(ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=bet_transaction(table, "C1", "b1", 10))
    before = ddb.scan(TableName=table)["Items"]
    writes = bet_transaction(table, "C1", "b2", 20)
    writes.append(
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": "BET#b1"}, "sk": {"S": "BET"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    )
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=writes)
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert e.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "None"},
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert "[None, None, None, ConditionalCheckFailed]" in e.value.response["Error"]["Message"]
    assert ddb.scan(TableName=table)["Items"] == before


def test_all_old_on_condition_failure_returns_the_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": "1"}, "v": {"N": "3"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                        "ConditionExpression": "v > :n",
                        "ExpressionAttributeValues": {":n": {"N": "5"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        )
    (reason,) = e.value.response["CancellationReasons"]
    assert reason["Code"] == "ConditionalCheckFailed"
    assert reason["Item"] == {"pk": {"S": "A"}, "sk": {"S": "1"}, "v": {"N": "3"}}


def test_an_operation_failing_while_applied_rolls_back_the_ones_before_it(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "C1"}, "sk": {"S": "PROFILE"}, "bets_total": {"S": "text"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "D"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    before = ddb.scan(TableName=table)["Items"]
    writes = [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "D"}, "sk": {"S": "1"}}}},
        *bet_transaction(table, "C1", "b1", 10),  # ADD on a string attribute fails when applied
    ]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=writes)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.scan(TableName=table)["Items"] == before


def test_two_operations_on_one_item_are_rejected_before_anything_changes(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "X"}, "sk": {"S": "1"}}}},
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "X"}, "sk": {"S": "1"}}}},
            ]
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.scan(TableName=table)["Count"] == 0


def test_query_begins_with_between_order_pagination_gsi_and_ttl(ddb: Any) -> None:
    table = create_table(ddb, gsi=True)
    for c in ("C1", "C2"):
        for day in range(1, 8):
            ddb.put_item(TableName=table, Item={"pk": {"S": c}, "sk": {"S": f"BET#2025-01-0{day}#{c}"}})
        ddb.put_item(
            TableName=table,
            Item={
                "pk": {"S": c},
                "sk": {"S": "PROFILE"},
                "kind": {"S": "CUST"},
                "updated_at": {"S": f"2025-02-0{c[1]}"},
                "display": {"S": c.lower()},
                "secret": {"S": "not projected"},
            },
        )

    def keys(**kw: Any) -> list[str]:
        return [i["sk"]["S"] for i in ddb.query(TableName=table, **kw)["Items"]]

    c1 = {":p": {"S": "C1"}}
    assert keys(
        KeyConditionExpression="pk = :p AND begins_with(sk, :b)", ExpressionAttributeValues={**c1, ":b": {"S": "BET#"}}
    ) == [f"BET#2025-01-0{d}#C1" for d in range(1, 8)]
    between = {**c1, ":a": {"S": "BET#2025-01-03"}, ":z": {"S": "BET#2025-01-05~"}}
    assert keys(KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :z", ExpressionAttributeValues=between) == [
        "BET#2025-01-03#C1",
        "BET#2025-01-04#C1",
        "BET#2025-01-05#C1",
    ]
    assert keys(KeyConditionExpression="pk = :p", ExpressionAttributeValues=c1, ScanIndexForward=False)[0] == "PROFILE"

    pages, start = [], None
    while True:
        kw: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
            ExpressionAttributeValues={**c1, ":b": {"S": "BET#"}},
            Limit=3,
            **kw,
        )
        pages.append([i["sk"]["S"] for i in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [k for page in pages for k in page] == [f"BET#2025-01-0{d}#C1" for d in range(1, 8)]

    by_kind = ddb.query(
        TableName=table,
        IndexName="by_kind",
        KeyConditionExpression="kind = :k AND updated_at > :t",
        ExpressionAttributeValues={":k": {"S": "CUST"}, ":t": {"S": "2025-02-01"}},
    )["Items"]
    assert [(i["pk"]["S"], i["display"]["S"]) for i in by_kind] == [("C2", "c2")]
    assert "secret" not in by_kind[0]

    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_only_sns_instances_are_tracked_for_data_json(server: MotoServer, ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=bet_transaction(table, "C1", "tracked", 1))
    sns = client_for(server.endpoint, "sns")
    arn = sns.create_topic(Name="tracking-check")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="staff@example.com")
    sns.publish(TopicArn=arn, Message="hello")
    data = requests.get(f"{server.endpoint}/moto-api/data.json", timeout=10).json()
    assert data["dynamodb"]["Item"] == [] and data["dynamodb"]["Table"] == []
    topic = next(t for t in data["sns"]["Topic"] if t["arn"] == arn)
    assert [n[1] for n in topic["sent_notifications"]] == ["hello"]
    assert any(s["topic_arn"] == arn for s in data["sns"]["Subscription"])


def test_an_sqs_long_poll_does_not_hold_up_other_sqs_requests(server: MotoServer) -> None:
    sqs = client_for(server.endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"long-poll-{time.monotonic_ns()}")["QueueUrl"]
    got: list[Any] = []
    poller = threading.Thread(
        target=lambda: got.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", []))
    )
    poller.start()
    time.sleep(0.5)  # the poll is now waiting in moto, on the SQS lock's side
    sqs.send_message(QueueUrl=url, MessageBody="during the poll")
    poller.join(timeout=10)
    assert [m["Body"] for m in got[0]] == ["during the poll"]


def test_dynamodb_answers_written_by_json_dumps_equal_motos_serializer(
    server: MotoServer, ddb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every data-plane answer of a varied workload, both ways: the fast path's body parses to what
    moto's own serializer writes, and binary attributes go moto's way."""
    from moto.dynamodb.responses import DynamoResult

    fast = DynamoResult.execute_result
    original = moto_patches.original_dynamo_execute_result
    compared: list[str] = []

    def both(self: Any, context: Any) -> Any:
        status, headers, body = fast(self, context)
        want_status, want_headers, want_body = original(self, context)
        assert (status, headers["Content-Type"]) == (want_status, want_headers["Content-Type"])
        assert json.loads(body) == json.loads(want_body), context.operation_model.name
        compared.append(context.operation_model.name)
        return status, headers, body

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    item = {
        "pk": {"S": "C1"},
        "sk": {"S": "BET#2026-12-01T10:00:00Z#b1"},
        "n": {"N": "12.50"},
        "ns": {"NS": ["1", "2"]},
        "ss": {"SS": ["a", "b"]},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"NULL": True}, {"BOOL": False}]},
        "m": {"M": {"deep": {"M": {"s": {"S": "é £ \u202e"}}}}},
    }
    ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    ddb.put_item(TableName=table, Item={**item, "sk": {"S": "BIN"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01"]}})
    ddb.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True)
    assert ddb.get_item(TableName=table, Key={"pk": item["pk"], "sk": {"S": "BIN"}})["Item"]["b"]["B"] == b"\x00\xff"
    ddb.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"S": "x"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="ADD n :one SET t = :t",
        ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"S": "v"}},
        ReturnValues="ALL_NEW",
    )
    for i in range(30):
        ddb.transact_write_items(TransactItems=bet_transaction(table, "C2", f"q{i}", i + 1))
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=bet_transaction(table, "C2", "q0", 1))
    page = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "C2"}},
        Limit=7,
        ScanIndexForward=False,
        ReturnConsumedCapacity="TOTAL",
    )
    ddb.query(TableName=table, ExclusiveStartKey=page["LastEvaluatedKey"], KeyConditionExpression="pk = :p",
              ExpressionAttributeValues={":p": {"S": "C2"}}, ProjectionExpression="sk, stake")  # fmt: skip
    ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "C1"}})
    ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "C2"}},
              Select="COUNT")  # fmt: skip
    ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": item["pk"], "sk": item["sk"]}]}})
    ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "W"}, "sk": {"S": "1"}}}}]})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "W"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")
    ddb.scan(TableName=table, Limit=5)
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": item["pk"], "sk": item["sk"]}}}])
    assert set(compared) == moto_patches.FAST_JSON_OPERATIONS


def _normal(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without its metadata, string sets sorted (DynamoDB sets have no order)."""

    def fix(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: sorted(x) if k in ("SS", "NS") else fix(x) for k, x in v.items()}
        return [fix(x) for x in v] if isinstance(v, list) else v

    return fix({k: v for k, v in answer.items() if k != "ResponseMetadata"})


def test_projections_answer_as_motos_own_query_and_project(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast projection (named attributes as stored; a Query copying only those) against moto's
    own Table.query and Item.project, on pages cut by Limit and by the 1 MB size limit."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    table = create_table(ddb, gsi=True)
    big = "x" * 100_000  # 12 of these pass a page's 1 MB: the page must break where whole items do
    for i in range(24):
        ddb.put_item(TableName=table, Item={
            "pk": {"S": "C1"}, "sk": {"S": f"BET#{i:03d}"}, "stake": {"N": f"{i}.50"}, "payload": {"S": big},
            "ss": {"SS": ["b", "a", f"s{i}"]}, "l": {"L": [{"S": "x"}, {"N": str(i)}]},
            "m": {"M": {"deep": {"M": {"s": {"S": "é £"}}}, "n": {"N": "1"}}}, "kind": {"S": "K"},
            "updated_at": {"S": f"2026-01-{i + 1:02d}"}, "display": {"S": f"d{i}"},
            **({"odd": {"BOOL": True}} if i % 2 else {}),
        })  # fmt: skip
    c1 = {":p": {"S": "C1"}}
    between = {**c1, ":a": {"S": "BET#003"}, ":z": {"S": "BET#020"}}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("query", {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :z", "ExpressionAttributeValues": between,
                   "ProjectionExpression": "sk, stake, ss, l, m, odd, absent_attr"}),
        ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": c1,
                   "ProjectionExpression": "stake, payload"}),  # paged by size: sk itself not projected
        ("query", {"KeyConditionExpression": "pk = :p AND begins_with(sk, :b)",
                   "ExpressionAttributeValues": {**c1, ":b": {"S": "BET#01"}}, "ScanIndexForward": False, "Limit": 4,
                   "ProjectionExpression": "#s, #o", "ExpressionAttributeNames": {"#s": "stake", "#o": "odd"}}),
        ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": c1,
                   "ProjectionExpression": "sk, m.deep, l[1]"}),  # nested paths: moto's own way
        ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {**c1, ":t": {"BOOL": True}},
                   "FilterExpression": "odd = :t", "ProjectionExpression": "sk"}),  # filter on an unprojected name
        ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": c1, "Select": "COUNT"}),
        ("query", {"IndexName": "by_kind", "KeyConditionExpression": "kind = :k",
                   "ExpressionAttributeValues": {":k": {"S": "K"}}, "ProjectionExpression": "display, sk"}),
        ("get_item", {"Key": {"pk": {"S": "C1"}, "sk": {"S": "BET#005"}},
                      "ProjectionExpression": "ss, m, absent_attr"}),
        ("scan", {"ProjectionExpression": "sk, stake", "Limit": 5}),
    ]  # fmt: skip

    def pages(op: str, kw: dict[str, Any]) -> list[dict[str, Any]]:
        out, start = [], None
        while True:
            answer = getattr(ddb, op)(TableName=table, **kw, **({"ExclusiveStartKey": start} if start else {}))
            out.append(_normal(answer))
            start = answer.get("LastEvaluatedKey")
            if not start or op == "get_item":
                return out

    fast = [pages(op, kw) for op, kw in calls]
    monkeypatch.setattr(Table, "query", moto_patches.originals["Table.query"])
    monkeypatch.setattr(Item, "project", moto_patches.originals["Item.project"])
    slow = [pages(op, kw) for op, kw in calls]
    assert fast == slow
    by_size = [len(p["Items"]) for p in fast[1]]
    assert len(by_size) > 2 and sum(by_size) == 24 and max(by_size) < 11  # whole items count to 1 MB
    assert sum(len(p["Items"]) for p in fast[0]) == 18 and "absent_attr" not in fast[0][0]["Items"][0]
    assert "payload" not in fast[0][0]["Items"][0] and "pk" not in fast[0][0]["Items"][0]
