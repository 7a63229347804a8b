"""A thin layer over the low-level DynamoDB client: items as plain dicts (boto3's
TypeSerializer/TypeDeserializer), paginated Query, and transactions with conflict retries.

Throttling and 5xx are retried by botocore (core/aws.py); what is still failing afterwards
becomes `Unavailable` (HTTP 503 with Retry-After), never an unexplained 500.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from chalicelib.adapters.guard import error_code, unavailable
from chalicelib.domain.errors import Unavailable

_ser = TypeSerializer()
_de = TypeDeserializer()

CONFLICT_ATTEMPTS = 6
CONFLICT_BASE_S = 0.02


def _plain(v: Any) -> Any:
    # DynamoDB has no float type; Decimal(str(x)) keeps what was meant (0.1, not 0.1000000000000000055).
    if isinstance(v, float):
        return Decimal(str(v))
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def serialize(value: Any) -> dict[str, Any]:
    return dict(_ser.serialize(_plain(value)))


def to_item(doc: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item; None values are left out."""
    return {k: serialize(v) for k, v in doc.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _number(_de.deserialize(v)) for k, v in item.items()}


def _number(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, list):
        return [_number(x) for x in v]
    if isinstance(v, dict):
        return {k: _number(x) for k, x in v.items()}
    if isinstance(v, set):
        return {_number(x) for x in v}
    return v


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues: values(now=...) -> {":now": {...}}."""
    return {f":{k}": serialize(v) for k, v in named.items()}


class TransactionCancelled(Exception):
    """A transaction failed a condition; `codes` has one entry per item ("None" for those that passed)."""

    def __init__(self, codes: list[str]):
        super().__init__(", ".join(codes))
        self.codes = codes

    def failed(self, index: int) -> bool:
        return index < len(self.codes) and self.codes[index] == "ConditionalCheckFailed"

    @property
    def any_condition_failed(self) -> bool:
        return "ConditionalCheckFailed" in self.codes


def _error_code(exc: ClientError) -> str:
    return error_code(exc)


class Dynamo:
    """The operations the adapters use, over one low-level client."""

    def __init__(self, client: Any, sleep: Any = time.sleep):
        self.client = client
        self._sleep = sleep

    def _call(self, op: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, op)(**kwargs)
        except (ClientError, BotoConnectionError, HTTPClientError) as exc:
            if isinstance(exc, ClientError) and _error_code(exc) == "TransactionCanceledException":
                raise  # conflicts are retried by transact(); failed conditions are answers
            if (busy := unavailable(exc, "the database")) is not None:
                raise busy from exc
            raise

    def get(self, table: str, key: dict[str, Any], consistent: bool = True, projection: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"TableName": table, "Key": to_item(key), "ConsistentRead": consistent}
        if projection:
            kwargs["ProjectionExpression"] = projection
        item = self._call("get_item", **kwargs).get("Item")
        return from_item(item) if item else None

    def put(self, table: str, doc: dict[str, Any], condition: str | None = None, **expr: Any) -> bool:
        """Put an item; False when `condition` fails."""
        kwargs: dict[str, Any] = {"TableName": table, "Item": to_item(doc), **expr}
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self._call("put_item", **kwargs)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update(self, table: str, key: dict[str, Any], expression: str, **expr: Any) -> bool:
        """Update an item; False when its ConditionExpression fails."""
        try:
            self._call("update_item", TableName=table, Key=to_item(key), UpdateExpression=expression, **expr)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update_returning(self, table: str, key: dict[str, Any], expression: str, **expr: Any) -> dict[str, Any]:
        """Update an item and return its updated attributes (ReturnValues=UPDATED_NEW)."""
        resp = self._call(
            "update_item",
            TableName=table,
            Key=to_item(key),
            UpdateExpression=expression,
            ReturnValues="UPDATED_NEW",
            **expr,
        )
        return from_item(resp.get("Attributes", {}))

    def delete_item(self, table: str, key: dict[str, Any]) -> None:
        self._call("delete_item", TableName=table, Key=to_item(key))

    def query(self, table: str, max_pages: int = 1000, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a Query, following LastEvaluatedKey (at most `max_pages` pages)."""
        for _ in range(max_pages):
            page = self._call("query", TableName=table, **kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count(self, table: str, limit: int, **kwargs: Any) -> int:
        """How many items one Query page matches, reading at most `limit` (Select=COUNT)."""
        return int(self._call("query", TableName=table, Limit=limit, Select="COUNT", **kwargs).get("Count", 0))

    def query_page(
        self, table: str, limit: int, start_key: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a Query and the (plain) key to continue from."""
        if start_key:
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        page = self._call("query", TableName=table, Limit=limit, **kwargs)
        last = page.get("LastEvaluatedKey")
        return [from_item(i) for i in page.get("Items", [])], (from_item(last) if last else None)

    def batch_get(self, table: str, keys: list[dict[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
        """Items by key, 100 at a time, unprocessed keys retried (eventually consistent)."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), 100):
            request: dict[str, Any] = {"Keys": [to_item(k) for k in keys[i : i + 100]]}
            if projection:
                request["ProjectionExpression"] = projection
            pending: dict[str, Any] = {table: request}
            for attempt in range(CONFLICT_ATTEMPTS):
                resp = self._call("batch_get_item", RequestItems=pending)
                out += [from_item(x) for x in resp.get("Responses", {}).get(table, [])]
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._sleep(random.uniform(0, CONFLICT_BASE_S * 2**attempt))
        return out

    def describe(self, table: str) -> None:
        self._call("describe_table", TableName=table)

    def transact(self, writes: list[dict[str, Any]]) -> None:
        """TransactWriteItems; conflicts with concurrent transactions are retried with jittered backoff.

        Raises TransactionCancelled when a condition fails (never retried: it is an answer)."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._call("transact_write_items", TransactItems=writes)
                return
            except ClientError as exc:
                if _error_code(exc) != "TransactionCanceledException":
                    raise
                codes = [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes or not (
                    set(codes) & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
                ):
                    raise TransactionCancelled(codes) from exc
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise Unavailable("concurrent updates to the same records; retry shortly", retry_after_s=1) from exc
                # Full jitter: concurrent writers of one customer's profile spread out.
                self._sleep(random.uniform(0, CONFLICT_BASE_S * 2**attempt))

    def transact_guarded(self, writes: list[dict[str, Any]]) -> bool:
        """`transact`, where the first write's condition guards the rest: False when that one
        failed (already done, or not there), True when all were written; any other failure raises."""
        try:
            self.transact(writes)
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False
            raise
        return True


def put(table: str, doc: dict[str, Any], condition: str | None = None, **expr: Any) -> dict[str, Any]:
    """A TransactWriteItems Put entry."""
    entry: dict[str, Any] = {"TableName": table, "Item": to_item(doc), **expr}
    if condition:
        entry["ConditionExpression"] = condition
    return {"Put": entry}


def update(table: str, key: dict[str, Any], expression: str, **expr: Any) -> dict[str, Any]:
    """A TransactWriteItems Update entry."""
    return {"Update": {"TableName": table, "Key": to_item(key), "UpdateExpression": expression, **expr}}


def delete(table: str, key: dict[str, Any], condition: str | None = None, **expr: Any) -> dict[str, Any]:
    """A TransactWriteItems Delete entry."""
    entry: dict[str, Any] = {"TableName": table, "Key": to_item(key), **expr}
    if condition:
        entry["ConditionExpression"] = condition
    return {"Delete": entry}


def condition_check(table: str, key: dict[str, Any], condition: str, **expr: Any) -> dict[str, Any]:
    """A TransactWriteItems ConditionCheck entry."""
    return {"ConditionCheck": {"TableName": table, "Key": to_item(key), "ConditionExpression": condition, **expr}}
