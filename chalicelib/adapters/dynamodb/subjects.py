"""Customers and writers in the `subjects` table: per-bet items for rolling windows, running
totals, links and slips; and the activity index in `monitoring` that tells the schedule whom to
evaluate (subjects with new activity since its last run, in sharded 5-minute buckets)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, put, update, values
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.bets import Bet
from chalicelib.domain.risk_history import PastBet
from chalicelib.domain.rules import WindowBet, window_bet_of
from chalicelib.domain.subjects import ClientCategory, Profile, SubjectRef, SubjectStatus

ACTIVITY_TTL = timedelta(days=2)
WINDOW_FIELDS = (
    "bet_id, stake_minor, shop_id, placed_at, has_slip, customer_id, channel, odds, sel, "
    "profit_minor, sp_compared, sp_beaten, past"
)


def combined_odds(bet: Bet) -> float | None:
    return window_bet_of(bet).odds


def bet_item(ref: SubjectRef, bet: Bet, history_days: int, has_slip: bool = False) -> dict[str, Any]:
    placed = bet.placed_at.astimezone(UTC)
    w = window_bet_of(bet)
    return {
        "pk": keys.subject(ref),
        "sk": keys.subject_bet(placed, bet.bet_id),
        "bet_id": bet.bet_id,
        "stake_minor": bet.stake_minor,
        "placed_at": keys.iso(placed),
        "shop_id": bet.shop_id,
        "customer_id": bet.customer_id,
        "channel": bet.channel.value,
        "odds": w.odds,
        "sel": list(w.selections),
        "has_slip": True if has_slip else None,
        # What the risk model reads of each past bet, from the same one Query.
        "past": PastBet.from_bet(bet.model_dump(mode="json")).to_item(),
        "expires_at": int((placed + timedelta(days=history_days)).timestamp()),
    }


def activity_item(ref: SubjectRef, at: datetime) -> dict[str, Any]:
    return {
        "pk": keys.activity(at, ref),
        "sk": keys.activity_sort(at, ref),
        "expires_at": int((at + ACTIVITY_TTL).timestamp()),
    }


def bet_writes(
    tables: dict[str, str],
    ref: SubjectRef,
    bet: Bet,
    history_days: int,
    at: datetime,
    has_slip: bool = False,
    activity: bool = True,
) -> list[dict[str, Any]]:
    """TransactWriteItems entries counting one bet for a subject: its window item, its running
    totals and its activity marker (idempotent together with the bet's own conditional Put)."""
    placed = bet.placed_at.astimezone(UTC)
    subject_key = keys.subject(ref)
    writes = [
        put(tables["subjects"], bet_item(ref, bet, history_days, has_slip)),
        update(
            tables["subjects"],
            {"pk": subject_key, "sk": keys.PROFILE},
            "ADD bets_total :one, stake_total_minor :stake "
            "SET display = :display, updated_at = :now, first_bet_at = if_not_exists(first_bet_at, :placed)",
            ExpressionAttributeValues=values(
                one=1, stake=bet.stake_minor, display=ref.id, now=keys.iso(at), placed=keys.iso(placed)
            ),
        ),
        put(tables["monitoring"], activity_item(ref, at)),
        put(tables["monitoring"], seen_item(ref, placed, history_days)),
    ]
    return writes if activity else [w for i, w in enumerate(writes) if i != 2]


def first_bet_update(tables: dict[str, str], ref: SubjectRef, placed: datetime) -> dict[str, Any]:
    """update_item arguments lowering PROFILE first_bet_at to `placed` when it is earlier: the
    transaction sets it only where missing (no min() in an UpdateExpression), so a bet placed
    earlier but received later (a till back online, an import) moves it here, atomically per item."""
    return {
        "table": tables["subjects"],
        "key": {"pk": keys.subject(ref), "sk": keys.PROFILE},
        "expression": "SET first_bet_at = :placed",
        "ConditionExpression": "attribute_exists(pk) AND first_bet_at > :placed",
        "ExpressionAttributeValues": values(placed=keys.iso(placed)),
    }


def seen_item(ref: SubjectRef, placed: datetime, history_days: int) -> dict[str, Any]:
    return {
        "pk": keys.seen(keys.day(placed), ref),
        "sk": keys.subject(ref),
        "expires_at": int((placed + timedelta(days=history_days)).timestamp()),
    }


STATUS_FIELDS = "category, category_reason, category_by, category_at, whitelisted_until, whitelist_reason, whitelist_by"


def _status(i: dict[str, Any]) -> SubjectStatus:
    return SubjectStatus(
        category=ClientCategory(i.get("category") or "none"),
        category_reason=i.get("category_reason"),
        category_by=i.get("category_by"),
        category_at=i.get("category_at"),
        whitelisted_until=i.get("whitelisted_until"),
        whitelist_reason=i.get("whitelist_reason"),
        whitelist_by=i.get("whitelist_by"),
    )


def audit_item(subject: SubjectRef, event: AuditEvent) -> dict[str, Any]:
    return {
        "pk": keys.subject(subject),
        "sk": keys.audit(event.at, uuid.uuid4().hex[:8]),
        "doc": event.model_dump(mode="json"),
    }


def window_bet(i: dict[str, Any]) -> WindowBet:
    return WindowBet(
        bet_id=i["bet_id"],
        stake_minor=int(i["stake_minor"]),
        placed_at=datetime.fromisoformat(i["placed_at"]),
        shop_id=i.get("shop_id"),
        has_slip=bool(i.get("has_slip")),
        customer_id=i.get("customer_id"),
        channel=i.get("channel"),
        odds=float(i["odds"]) if i.get("odds") is not None else None,
        selections=tuple(i.get("sel") or ()),
        profit_minor=int(i["profit_minor"]) if i.get("profit_minor") is not None else None,
        sp_compared=int(i.get("sp_compared") or 0),
        sp_beaten=int(i.get("sp_beaten") or 0),
        past=PastBet.model_validate(i["past"]) if i.get("past") else None,
    )


class DynamoSubjectStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["subjects"]
        self.monitoring = tables["monitoring"]

    def seen_on(self, day: datetime) -> set[SubjectRef]:
        """Subjects with a bet placed on `day` (one Query per shard)."""
        found: set[SubjectRef] = set()
        for pk in keys.seen_partitions(keys.day(day)):
            for item in self.db.query(
                self.monitoring, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=pk)
            ):
                found.add(keys.parse_subject(item["sk"]))
        return found

    def bets_between(self, subject: SubjectRef, start: datetime, end: datetime) -> list[WindowBet]:
        lo, hi = keys.subject_bets_between(start, end)
        items = self.db.query(
            self.table,
            max_pages=20,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=keys.subject(subject), lo=lo, hi=hi),
            ProjectionExpression=WINDOW_FIELDS,
        )
        return [window_bet(i) for i in items]

    def recent(
        self, subject: SubjectRef, start: datetime, end: datetime | None
    ) -> tuple[list[WindowBet], SubjectStatus]:
        lo, hi = keys.subject_bets_and_status(start)
        end_iso = keys.iso(end) if end is not None else None
        bets, status = [], SubjectStatus()
        for i in self.db.query(
            self.table,
            max_pages=20,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=keys.subject(subject), lo=lo, hi=hi),
            ProjectionExpression=f"sk, {WINDOW_FIELDS}, {STATUS_FIELDS}",
        ):
            if i["sk"] == keys.SUBJECT_STATUS:
                status = _status(i)
            elif (
                end_iso is None or i["placed_at"] <= end_iso
            ):  # bets placed after this one (late arrivals) are not its history
                bets.append(window_bet(i))
        return bets, status

    def status(self, subject: SubjectRef) -> SubjectStatus:
        item = self.db.get(self.table, {"pk": keys.subject(subject), "sk": keys.SUBJECT_STATUS})
        return _status(item) if item else SubjectStatus()

    def statuses(self, subjects: list[SubjectRef]) -> dict[SubjectRef, SubjectStatus]:
        found = self.db.batch_get(
            self.table, [{"pk": keys.subject(s), "sk": keys.SUBJECT_STATUS} for s in sorted(set(subjects))]
        )
        return {keys.parse_subject(i["pk"]): _status(i) for i in found}

    def set_status(self, subject: SubjectRef, status: SubjectStatus, audit: AuditEvent) -> None:
        doc = {"pk": keys.subject(subject), "sk": keys.SUBJECT_STATUS, **{k: v for k, v in asdict(status).items()}}
        doc["category"] = status.category.value
        self.db.transact([put(self.table, doc), put(self.table, audit_item(subject, audit))])

    def audit(self, subject: SubjectRef) -> list[AuditEvent]:
        items = self.db.query(
            self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            ExpressionAttributeValues=values(pk=keys.subject(subject), a=keys.AUDIT_PREFIX),
        )
        return [AuditEvent.model_validate(i["doc"]) for i in items]

    def profile(self, subject: SubjectRef) -> Profile | None:
        item = self.db.get(self.table, {"pk": keys.subject(subject), "sk": keys.PROFILE}, consistent=False)
        if item is None:
            return None
        return Profile(
            subject=subject,
            bets_total=int(item.get("bets_total", 0)),
            stake_total_minor=int(item.get("stake_total_minor", 0)),
            first_bet_at=item.get("first_bet_at"),
            settled_bets=int(item.get("settled_bets", 0)),
            profit_total_minor=int(item.get("profit_total_minor", 0)),
            knockbacks_total=int(item.get("knockbacks_total", 0)),
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

    def active_between(self, start: datetime, end: datetime) -> set[SubjectRef]:
        """One Query per shard per 5-minute bucket from start to end: the work follows the time
        span and the new activity in it, never the number of subjects stored."""
        found: set[SubjectRef] = set()
        bucket = keys.activity_bucket(start)
        step = timedelta(minutes=keys.ACTIVITY_BUCKET_MINUTES)
        lo, hi = keys.activity_range(start, end)
        while bucket <= end:
            for pk in keys.activity_partitions(bucket):
                for item in self.db.query(
                    self.table,
                    KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                    ExpressionAttributeValues=values(pk=pk, lo=lo, hi=hi),
                    ProjectionExpression="sk",
                ):
                    found.add(keys.activity_subject(item["sk"]))
            bucket += step
        return found

    def checkpoint(self, name: str) -> datetime | None:
        item = self.db.get(self.table, {"pk": keys.run_state(name), "sk": keys.STATE})
        return datetime.fromisoformat(item["until"]) if item else None

    def set_checkpoint(self, name: str, at: datetime) -> None:
        self.db.put(self.table, {"pk": keys.run_state(name), "sk": keys.STATE, "until": keys.iso(at)})
