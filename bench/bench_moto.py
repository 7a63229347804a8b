"""What a bet costs the embedded AWS as its tables grow: moto 5.2.5 as released vs local/moto_patches.py.

    .venv/bin/python bench/bench_moto.py [--sizes 1000,10000,50000] [--ops 200]

In-process, on moto's DynamoDB backend (no HTTP, so only moto's own work is timed): for each
table size, ms per TransactWriteItems of the shape a bet is stored with (bet Put with a condition,
customer item Put, ADD on the profile, activity Put) and per history Query, with moto's original
methods and with the patched ones. Then, at the largest size, how long a snapshot of DynamoDB
holds its lock (forked child vs in-process pickling) and how long a restore takes.
Wall clock on this machine; the figures are for comparison, not thresholds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table

ORIGINAL_TRANSACT = DynamoDBBackend.transact_write_items
ORIGINAL_QUERY = Table.query

from local import moto_patches  # noqa: E402

moto_patches.apply()
PATCHED_TRANSACT = DynamoDBBackend.transact_write_items
PATCHED_QUERY = Table.query

CUSTOMERS = 500
NO_OPTIONS = {
    "throughput": None,
    "global_indexes": None,
    "indexes": None,
    "streams": None,
    "billing_mode": "PAY_PER_REQUEST",
    "sse_specification": None,
    "tags": None,
    "deletion_protection_enabled": False,
    "warm_throughput": None,
}


def _backend() -> Any:
    backend = dynamodb_backends["123456789012"]["eu-west-2"]
    backend.reset()
    s = {"AttributeName": "pk", "AttributeType": "S"}
    r = {"AttributeName": "sk", "AttributeType": "S"}
    hash_only = [{"AttributeName": "pk", "KeyType": "HASH"}]
    ranged = [*hash_only, {"AttributeName": "sk", "KeyType": "RANGE"}]
    backend.create_table("bets", schema=hash_only, attr=[s], **NO_OPTIONS)
    backend.create_table("subjects", schema=ranged, attr=[s, r], **NO_OPTIONS)
    backend.create_table("monitoring", schema=ranged, attr=[s, r], **NO_OPTIONS)
    return backend


def _bet(i: int) -> list[dict[str, Any]]:
    customer = f"CUST#{i % CUSTOMERS}"
    return [
        {
            "Put": {
                "TableName": "bets",
                "Item": {"pk": {"S": f"BET#{i:08d}"}, "doc": {"S": "d" * 1500}, "fingerprint": {"S": "f" * 64}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": "subjects",
                "Item": {"pk": {"S": customer}, "sk": {"S": f"BET#2026-01-01T00:00:00Z#{i:08d}"}, "stake": {"N": "5"}},
            }
        },
        {
            "Update": {
                "TableName": "subjects",
                "Key": {"pk": {"S": customer}, "sk": {"S": "PROFILE"}},
                "UpdateExpression": "ADD bets_total :one, stake_total_minor :stake",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":stake": {"N": "5"}},
            }
        },
        {"Put": {"TableName": "monitoring", "Item": {"pk": {"S": "ACTIVE#2026-01-01T00"}, "sk": {"S": customer}}}},
    ]


def _seed(backend: Any, upto: int, start: int) -> None:
    for i in range(start, upto):  # straight into the tables: seeding is not what is measured
        for op in _bet(i):
            if "Put" in op:
                backend.put_item(op["Put"]["TableName"], op["Put"]["Item"])


def _ms_each(fn: Callable[[int], Any], first: int, n: int) -> float:
    started = time.perf_counter()
    for i in range(first, first + n):
        fn(i)
    return (time.perf_counter() - started) * 1000 / n


def _query(backend: Any, query: Any) -> Callable[[int], Any]:
    table = backend.get_table("subjects")
    from moto.dynamodb.models.dynamo_type import DynamoType

    def run(i: int) -> Any:
        return query(table, DynamoType({"S": f"CUST#{i % CUSTOMERS}"}), "BEGINS_WITH", [DynamoType({"S": "BET#"})],
                     None, None, True, None)  # fmt: skip

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,50000", help="bets stored before each measurement")
    ap.add_argument("--ops", type=int, default=200, help="patched operations timed per size")
    ap.add_argument("--original-ops", type=int, default=10, help="moto 5.2.5 operations timed per size")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    backend = _backend()
    print(f"moto {moto_patches.MOTO_VERSION}, {CUSTOMERS} customers; ms per operation (moto as released / patched)")
    print(f"{'bets stored':>12} {'items':>8} {'TransactWriteItems':>24} {'history Query':>20}")
    stored = 0
    next_id = 10_000_000  # measured bets never collide with seeded ones
    for size in sizes:
        _seed(backend, size, stored)
        stored = size
        items = sum(len(t) for t in backend.tables.values())
        orig_tx = _ms_each(lambda i: ORIGINAL_TRANSACT(backend, _bet(i)), next_id, args.original_ops)
        next_id += args.original_ops
        patched_tx = _ms_each(lambda i: PATCHED_TRANSACT(backend, _bet(i)), next_id, args.ops)
        next_id += args.ops
        orig_q = _ms_each(_query(backend, ORIGINAL_QUERY), 0, args.original_ops)
        patched_q = _ms_each(_query(backend, PATCHED_QUERY), 0, args.ops)
        print(f"{size:>12,} {items:>8,} {orig_tx:>11.2f} / {patched_tx:>8.3f} {orig_q:>9.2f} / {patched_q:>7.3f}")

    from local.moto_state import StateStore

    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore(Path(tmp), interval_s=0)
        store.snapshot(["dynamodb"], fork=True)
        store.snapshot(["dynamodb"], fork=False)
        forked, in_process = store.snapshots
        started = time.perf_counter()
        StateStore(Path(tmp), interval_s=0).restore()
        restore_s = time.perf_counter() - started
    print(
        f"snapshot of DynamoDB at {stored:,} bets ({forked.bytes / 1e6:.0f} MB): "
        f"lock held {forked.locked_s * 1000:.0f} ms "
        f"with a forked child ({forked.total_s:.1f}s to disk), {in_process.locked_s * 1000:.0f} ms in-process; "
        f"restore {restore_s:.1f}s"
    )


if __name__ == "__main__":
    main()
