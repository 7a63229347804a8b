"""Customers and writers ("subjects"): their bets over rolling windows, totals and links.

Key design (table `subjects`): pk CUST#<id> or WRITER#<id>;
  sk PROFILE                 running totals (ADD updates, so concurrent writers never lose counts)
  sk BET#<placed_at>#<bet>   one item per bet, TTL history_days: exact rolling windows by Query
  sk LINK#<other subject>    customer <-> writer links, stored on both sides
  sk SLIP#<bet id>           a writer's slips
Table `monitoring`, pk ACTIVE#<yyyy-mm-ddThh>, sk <subject>: who bet in that hour, so the rule
schedule finds recently active subjects without a Scan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.schemas import History

HISTORY_DAYS = 30


def customer_key(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def writer_key(writer_id: str) -> str:
    return f"WRITER#{writer_id}"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hour_bucket(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _ttl(ts: datetime) -> int:
    return int((ts + timedelta(days=settings().history_days)).timestamp())


def subjects_table() -> Any:
    return aws.dynamodb_table(settings().table("subjects"))


def monitoring_table() -> Any:
    return aws.dynamodb_table(settings().table("monitoring"))


def query_all(table: Any, max_pages: int = 1000, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a Query, following LastEvaluatedKey (at most `max_pages` pages)."""
    items: list[dict[str, Any]] = []
    for _ in range(max_pages):
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def bets_between(subject: str, start: datetime, end: datetime, max_pages: int = 20) -> list[dict[str, Any]]:
    """The subject's bet items with start <= placed_at <= end, oldest first."""
    return query_all(
        subjects_table(),
        max_pages=max_pages,
        KeyConditionExpression=Key("pk").eq(subject) & Key("sk").between(f"BET#{iso(start)}", f"BET#{iso(end)}~"),
        ProjectionExpression="sk, bet_id, stake_minor, shop_id, placed_at, customer_id",
    )


def history(subject: str, now: datetime) -> History:
    """Recent betting of a subject before `now`, as the risk model's features expect it."""
    items = bets_between(subject, now - timedelta(days=HISTORY_DAYS), now)
    if not items:
        return History()
    day_ago = now - timedelta(hours=24)
    recent = [i for i in items if datetime.fromisoformat(i["placed_at"]) >= day_ago]
    last = max(datetime.fromisoformat(i["placed_at"]) for i in items)
    return History(
        bets_24h=len(recent),
        stake_24h_minor=sum(int(i["stake_minor"]) for i in recent),
        bets_30d=len(items),
        stake_30d_minor=sum(int(i["stake_minor"]) for i in items),
        max_stake_30d_minor=max(int(i["stake_minor"]) for i in items),
        days_active_30d=len({i["placed_at"][:10] for i in items}),
        seconds_since_last_bet=max(0.0, (now - last).total_seconds()),
        distinct_shops_24h=len({i.get("shop_id") for i in recent if i.get("shop_id")}),
    )


def bet_writes(subject: str, bet: dict[str, Any], display: str) -> list[dict[str, Any]]:
    """TransactWriteItems entries recording one bet against a subject (idempotent per bet)."""
    cfg = settings()
    placed = datetime.fromisoformat(bet["placed_at"])
    now_iso = iso(datetime.now(UTC))
    return [
        {
            "Put": {
                "TableName": cfg.table("subjects"),
                "Item": {
                    "pk": {"S": subject},
                    "sk": {"S": f"BET#{iso(placed)}#{bet['bet_id']}"},
                    "bet_id": {"S": bet["bet_id"]},
                    "stake_minor": {"N": str(bet["stake_minor"])},
                    "placed_at": {"S": iso(placed)},
                    "expires_at": {"N": str(_ttl(placed))},
                    **({"shop_id": {"S": bet["shop_id"]}} if bet.get("shop_id") else {}),
                    **({"customer_id": {"S": bet["customer_id"]}} if bet.get("customer_id") else {}),
                },
            }
        },
        {
            "Update": {
                "TableName": cfg.table("subjects"),
                "Key": {"pk": {"S": subject}, "sk": {"S": "PROFILE"}},
                "UpdateExpression": (
                    "ADD bets_total :one, stake_total_minor :stake "
                    "SET kind = :kind, display = :display, updated_at = :now, "
                    "first_bet_at = if_not_exists(first_bet_at, :placed)"
                ),
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":stake": {"N": str(bet["stake_minor"])},
                    ":kind": {"S": subject.split("#", 1)[0]},
                    ":display": {"S": display},
                    ":now": {"S": now_iso},
                    ":placed": {"S": iso(placed)},
                },
            }
        },
        {
            "Put": {
                "TableName": cfg.table("monitoring"),
                "Item": {
                    "pk": {"S": f"ACTIVE#{hour_bucket(placed)}"},
                    "sk": {"S": subject},
                    "expires_at": {"N": str(int((placed + timedelta(days=3)).timestamp()))},
                },
            }
        },
    ]


def active_subjects(start: datetime, end: datetime) -> set[str]:
    """Subjects with a bet placed between start and end (hour resolution), by Query per hour."""
    table = monitoring_table()
    found: set[str] = set()
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        items = query_all(table, KeyConditionExpression=Key("pk").eq(f"ACTIVE#{hour_bucket(hour)}"))
        found.update(i["sk"] for i in items)
        hour += timedelta(hours=1)
    return found


def profile_items(subject: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The PROFILE item and the LINK#/SLIP# items of a subject."""
    table = subjects_table()
    profile = table.get_item(Key={"pk": subject, "sk": "PROFILE"}).get("Item")
    others = [
        item
        for prefix in ("LINK#", "SLIP#")
        for item in query_all(table, KeyConditionExpression=Key("pk").eq(subject) & Key("sk").begins_with(prefix))
    ]
    return profile, others


def window_totals(subject: str, now: datetime) -> dict[str, dict[str, int]]:
    items = bets_between(subject, now - timedelta(days=HISTORY_DAYS), now)
    out: dict[str, dict[str, int]] = {}
    for label, delta in (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))):
        start = iso(now - delta)
        sel = [i for i in items if i["placed_at"] >= start]
        out[label] = {"bets": len(sel), "stake_minor": sum(int(i["stake_minor"]) for i in sel)}
    return out
