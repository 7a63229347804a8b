"""The DynamoDB client layer: transaction conflicts retried, conditions answered, throttling after
botocore's retries turned into Unavailable (503), items round-tripped through TypeSerializer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, from_item, to_item
from chalicelib.domain.errors import Unavailable


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": c} for c in codes],
        },
        "TransactWriteItems",
    )


class Client:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {}

    def get_item(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "GetItem")


def test_conflicts_are_retried_until_the_transaction_goes_through() -> None:
    client = Client(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"))
    Dynamo(client, sleep=lambda s: None).transact([{}])
    assert client.calls == 3


def test_a_failed_condition_is_an_answer_not_retried() -> None:
    client = Client(cancelled("ConditionalCheckFailed", "None"))
    with pytest.raises(TransactionCancelled) as e:
        Dynamo(client, sleep=lambda s: None).transact([{}, {}])
    assert client.calls == 1 and e.value.failed(0) and not e.value.failed(1)


def test_endless_conflicts_become_unavailable() -> None:
    client = Client(*[cancelled("TransactionConflict")] * 10)
    with pytest.raises(Unavailable) as e:
        Dynamo(client, sleep=lambda s: None).transact([{}])
    assert client.calls == 6 and e.value.retry_after_s >= 1


def test_throttling_after_botocore_retries_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="busy"):
        Dynamo(Client()).get("t", {"pk": "x"})


def test_items_round_trip() -> None:
    doc = {"pk": "x", "n": 5, "f": 0.1, "nested": {"a": [1, 2.5]}, "b": b"\x00\x01", "none": None}
    item = to_item(doc)
    assert "none" not in item and item["f"] == {"N": "0.1"} and item["n"] == {"N": "5"}
    back = from_item(item)
    assert back["n"] == 5 and back["f"] == 0.1 and back["nested"] == {"a": [1, 2.5]}
    assert bytes(back["b"]) == b"\x00\x01" and Decimal(str(back["f"])) == Decimal("0.1")
