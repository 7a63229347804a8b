"""Customers and writers in the `subjects` table: per-bet items for rolling windows, running
totals, links and slips; and the hourly activity index in `monitoring`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, put, update, values
from chalicelib.domain.bets import Bet
from chalicelib.domain.rules import WindowBet
from chalicelib.domain.subjects import Profile, SubjectRef

ACTIVE_TTL = timedelta(days=3)


def bet_writes(
    tables: dict[str, str], ref: SubjectRef, bet: Bet, history_days: int, has_slip: bool = False
) -> list[dict[str, Any]]:
    """TransactWriteItems entries counting one bet for a subject (idempotent with the bet's own Put)."""
    placed = bet.placed_at.astimezone(UTC)
    subject_key = keys.subject(ref)
    return [
        put(
            tables["subjects"],
            {
                "pk": subject_key,
                "sk": keys.subject_bet(placed, bet.bet_id),
                "bet_id": bet.bet_id,
                "stake_minor": bet.stake_minor,
                "placed_at": keys.iso(placed),
                "shop_id": bet.shop_id,
                "customer_id": bet.customer_id,
                "has_slip": True if has_slip else None,
                "expires_at": int((placed + timedelta(days=history_days)).timestamp()),
            },
        ),
        update(
            tables["subjects"],
            {"pk": subject_key, "sk": keys.PROFILE},
            "ADD bets_total :one, stake_total_minor :stake "
            "SET display = :display, updated_at = :now, first_bet_at = if_not_exists(first_bet_at, :placed)",
            ExpressionAttributeValues=values(
                one=1,
                stake=bet.stake_minor,
                display=ref.id,
                now=keys.iso(datetime.now(UTC)),
                placed=keys.iso(placed),
            ),
        ),
        put(
            tables["monitoring"],
            {
                "pk": keys.active_hour(placed),
                "sk": subject_key,
                "expires_at": int((placed + ACTIVE_TTL).timestamp()),
            },
        ),
    ]


class DynamoSubjectStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["subjects"]

    def bets_between(self, subject: SubjectRef, start: datetime, end: datetime) -> list[WindowBet]:
        lo, hi = keys.subject_bets_between(start, end)
        items = self.db.query(
            self.table,
            max_pages=20,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=keys.subject(subject), lo=lo, hi=hi),
            ProjectionExpression="bet_id, stake_minor, shop_id, placed_at, has_slip",
        )
        return [
            WindowBet(
                bet_id=i["bet_id"],
                stake_minor=int(i["stake_minor"]),
                placed_at=datetime.fromisoformat(i["placed_at"]),
                shop_id=i.get("shop_id"),
                has_slip=bool(i.get("has_slip")),
            )
            for i in items
        ]

    def profile(self, subject: SubjectRef) -> Profile | None:
        item = self.db.get(self.table, {"pk": keys.subject(subject), "sk": keys.PROFILE}, consistent=False)
        if item is None:
            return None
        return Profile(
            subject=subject,
            bets_total=int(item.get("bets_total", 0)),
            stake_total_minor=int(item.get("stake_total_minor", 0)),
            first_bet_at=item.get("first_bet_at"),
        )

    def _prefixed(self, subject: SubjectRef, prefix: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                ExpressionAttributeValues=values(pk=keys.subject(subject), p=prefix),
            )
        )

    def links(self, subject: SubjectRef) -> list[SubjectRef]:
        return [keys.parse_link(i["sk"]) for i in self._prefixed(subject, keys.LINK_PREFIX)]

    def slips(self, subject: SubjectRef) -> list[str]:
        return [i["bet_id"] for i in self._prefixed(subject, keys.SLIP_PREFIX)]


class DynamoActivityIndex:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["monitoring"]

    def active_subjects(self, start: datetime, end: datetime) -> set[SubjectRef]:
        """Subjects with a bet placed between start and end (hour resolution), by one Query per hour."""
        found: set[SubjectRef] = set()
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour <= end:
            for item in self.db.query(
                self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=values(pk=keys.active_hour(hour)),
            ):
                found.add(keys.parse_subject(item["sk"]))
            hour += timedelta(hours=1)
        return found
