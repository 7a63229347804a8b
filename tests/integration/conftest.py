"""Integration fixtures: the real adapters over moto's in-process AWS (see tests/conftest.py); the
patched embedded AWS (local/moto_server.py) on a free port, and clients for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from chalicelib import wiring
from chalicelib.core import config
from local.moto_server import MotoServer

REGION = "eu-west-2"


@pytest.fixture
def adapters(provisioned: dict[str, str]) -> wiring.Adapters:
    return wiring.aws_adapters(config.settings())


def client_for(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=16, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer(port=0) as s:
        yield s


@pytest.fixture
def ddb(server: MotoServer) -> Any:
    return client_for(server.endpoint, "dynamodb")


def create_table(ddb: Any, name: str | None = None, gsi: bool = False) -> str:
    """A pk/sk table (both strings), optionally with GSI by_kind (kind, updated_at); returns its name."""
    name = name or f"t-{uuid.uuid4().hex[:8]}"
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    extra: dict[str, Any] = {}
    if gsi:
        attrs += [{"AttributeName": n, "AttributeType": "S"} for n in ("kind", "updated_at")]
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_kind",
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["display"]},
            }
        ]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=attrs,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


@pytest.fixture
def table(ddb: Any) -> str:
    return create_table(ddb)


def bet_transaction(table: str, customer: str, bet: str, stake: int) -> list[dict[str, Any]]:
    """The shape chalicelib writes: the bet once (conditional), its customer item, ADD on the profile."""
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": f"BET#{bet}"}, "sk": {"S": "BET"}, "stake": {"N": str(stake)}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": {"TableName": table, "Item": {"pk": {"S": customer}, "sk": {"S": f"BET#{bet}"}}}},
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": customer}, "sk": {"S": "PROFILE"}},
                "UpdateExpression": "ADD bets_total :one, stake_total :stake SET kind = :kind",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":stake": {"N": str(stake)}, ":kind": {"S": "CUST"}},
            }
        },
    ]


def profile(ddb: Any, table: str, customer: str) -> dict[str, Any] | None:
    item = ddb.get_item(TableName=table, Key={"pk": {"S": customer}, "sk": {"S": "PROFILE"}}).get("Item")
    return item


@pytest.fixture
def in_threads() -> Callable[..., list[Any]]:
    """in_threads(fn, args_list, workers=8): run fn(*args) concurrently; re-raises the first error."""
    from concurrent.futures import ThreadPoolExecutor

    def run(fn: Callable[..., Any], args_list: list[tuple[Any, ...]], workers: int = 8) -> list[Any]:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda a: fn(*a), args_list))

    return run
