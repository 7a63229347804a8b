"""Results and settlements: the event's result by date, the open-bets index per event (written with
the bet, `bets.event_items`) and the one transaction that settles a bet everywhere it shows."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, delete, put, update, values
from chalicelib.adapters.dynamodb.subjects import activity_item
from chalicelib.domain.results import EventResult
from chalicelib.ports import SettlementWrite, StoredResult

SETTLED_TTL_DAYS = 400


def _result_sort(result: EventResult) -> str:
    return result.date.isoformat() if result.date else keys.UNDATED


class DynamoSettlementStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.tables = tables
        self.monitoring = tables["monitoring"]

    def save_result(self, result: EventResult, version: str, at: Any) -> None:
        self.db.put(
            self.monitoring,
            {
                "pk": keys.result(result.key),
                "sk": _result_sort(result),
                "doc": result.model_dump_json(),
                "version": version,
                "stored_at": keys.iso(at),
            },
        )

    def result_for(self, event_key: str, day: date) -> StoredResult | None:
        items, _ = self.db.query_page(
            self.monitoring,
            limit=1,
            KeyConditionExpression="pk = :pk AND sk >= :day",
            ExpressionAttributeValues=values(pk=keys.result(event_key), day=day.isoformat()),
            ConsistentRead=True,
        )
        item = items[0] if items else self.db.get(self.monitoring, {"pk": keys.result(event_key), "sk": keys.UNDATED})
        if item is None:
            return None
        return StoredResult(EventResult.model_validate_json(item["doc"]), item["version"])

    def bets_on(self, event_key: str, result_date: str | None) -> list[str]:
        found: set[str] = set()
        for pk in [*keys.event_open_shards(event_key), *keys.event_settled_shards(event_key, result_date)]:
            for item in self.db.query(
                self.monitoring,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=values(pk=pk),
                ProjectionExpression="sk",
            ):
                found.add(item["sk"].removeprefix("BET#"))
        return sorted(found)

    def apply(self, w: SettlementWrite) -> bool:
        s, bet = w.settlement, w.bet
        first = w.previous is None
        delta = (s.profit_minor or 0) - ((w.previous.profit_minor or 0) if w.previous else 0)
        condition = "attribute_exists(pk) AND " + (
            "attribute_not_exists(settled_version)" if first else "settled_version = :prev"
        )
        extra = {"prev": w.previous_version} if not first else {}
        writes: list[dict[str, Any]] = [
            update(
                self.tables["bets"],
                {"pk": keys.bet(bet.bet_id)},
                "SET settlement = :doc, settled_version = :v, settled_at = :at",
                ConditionExpression=condition,
                ExpressionAttributeValues=values(doc=s.model_dump_json(), v=w.version, at=keys.iso(w.at), **extra),
            )
        ]
        optional: set[int] = set()  # items that may have expired (TTL): dropped rather than recreated
        for ref in w.subjects:
            optional.add(len(writes))
            writes.append(
                update(
                    self.tables["subjects"],
                    {"pk": keys.subject(ref), "sk": keys.subject_bet(bet.placed_at, bet.bet_id)},
                    "SET profit_minor = :p, sp_compared = :c, sp_beaten = :b",
                    ConditionExpression="attribute_exists(stake_minor)",
                    ExpressionAttributeValues=values(p=s.profit_minor, c=w.sp_compared, b=w.sp_beaten),
                )
            )
            writes.append(
                update(
                    self.tables["subjects"],
                    {"pk": keys.subject(ref), "sk": keys.PROFILE},
                    "ADD settled_bets :n, profit_total_minor :d",
                    ExpressionAttributeValues=values(n=1 if first else 0, d=delta),
                )
            )
            writes.append(put(self.monitoring, activity_item(ref, w.at)))
        optional.add(len(writes))
        writes.append(
            update(
                self.monitoring,
                {"pk": keys.feed(bet.received_at, bet.bet_id), "sk": keys.feed_sort(bet.received_at, bet.bet_id)},
                "SET bet_state = :st, profit_minor = :p, returns_minor = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values(st=s.state, p=s.profit_minor, r=s.returns_minor),
            )
        )
        expires = int((w.at + timedelta(days=SETTLED_TTL_DAYS)).astimezone(UTC).timestamp())
        for ek in sorted({k for k in w.events}):
            writes.append(delete(self.monitoring, {"pk": keys.event_open(ek, bet.bet_id), "sk": keys.bet(bet.bet_id)}))
            if (r := w.results.get(ek)) is not None:
                pk = keys.event_settled(ek, r.result.date.isoformat() if r.result.date else None, bet.bet_id)
                writes.append(put(self.monitoring, {"pk": pk, "sk": keys.bet(bet.bet_id), "expires_at": expires}))
        while True:
            try:
                self.db.transact(writes)
                return True
            except TransactionCancelled as exc:
                if exc.failed(0):
                    return False  # settled meanwhile with other results: the caller reads again
                gone = {i for i in optional if exc.failed(i)}
                if not gone or any(exc.failed(i) for i in range(len(writes)) if i not in optional):
                    raise
                writes = [x for i, x in enumerate(writes) if i not in gone]
                optional = {i - sum(1 for g in gone if g < i) for i in optional - gone}
