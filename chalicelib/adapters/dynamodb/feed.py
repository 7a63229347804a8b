"""The feed of records as recorded (pk FEED#<hour>#<shard> in `monitoring`), read newest first a
page at a time: one Query per shard per hour, so a page costs the same however large the table."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.cursor import position_of, position_token
from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, values
from chalicelib.domain.bets import Bet
from chalicelib.domain.errors import Invalid
from chalicelib.domain.feed import FeedFilter, FeedRow

MAX_PAGES_PER_SHARD = 5


def _row(i: dict[str, Any]) -> FeedRow:
    return FeedRow(
        record_type=i.get("record_type", "bet"),
        record_id=i["bet_id"],
        cursor=position_token(i["sk"]),
        recorded_at=i["sk"].split("#", 1)[0],
        placed_at=i.get("placed_at"),
        customer_id=i.get("customer_id"),
        writer_id=i.get("writer_id"),
        shop_id=i.get("shop_id"),
        channel=i.get("channel"),
        stake_minor=i.get("stake_minor"),
        bet_type=i.get("bet_type"),
        sport=i.get("sport"),
        selections=list(i.get("sel") or []),
        risk_score=i.get("risk_score"),
        risk_level=i.get("risk_level"),
        bet_state=i.get("bet_state"),
        profit_minor=i.get("profit_minor"),
        detail=i.get("detail"),
        status=i.get("status"),
        offered_minor=i.get("offered_minor"),
    )


def _filter(f: FeedFilter) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    parts: list[str] = []
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    for attr, value in (
        ("customer_id", f.customer_id),
        ("writer_id", f.writer_id),
        ("shop_id", f.shop_id),
        ("channel", f.channel),
        ("record_type", f.record_type),
        ("sport", f.sport),
    ):
        if value is not None:
            names[f"#{attr}"] = attr
            parts.append(f"#{attr} = :{attr}")
            vals.update(values(**{attr: value}))
    if f.min_stake_minor is not None:
        parts.append("stake_minor >= :min_stake")
        vals.update(values(min_stake=f.min_stake_minor))
    if f.risk_levels:
        ors = []
        for n, level in enumerate(f.risk_levels):
            ors.append(f"risk_level = :lvl{n}")
            vals.update(values(**{f"lvl{n}": level}))
        parts.append("(" + " OR ".join(ors) + ")")
    if f.selection:
        parts.append("contains(sel_lc, :sel)")
        vals.update(values(sel=f.selection.lower()))
    return (" AND ".join(parts) or None), names, vals


class DynamoFeed:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["monitoring"]

    def _shard(self, pk: str, lo: str, hi: str, limit: int, newest_first: bool, f: FeedFilter) -> list[dict[str, Any]]:
        expr, names, vals = _filter(f)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {**vals, **values(pk=pk, lo=lo, hi=hi)},
            "ScanIndexForward": not newest_first,
        }
        if expr:
            kwargs["FilterExpression"] = expr
        if names:
            kwargs["ExpressionAttributeNames"] = names
        out: list[dict[str, Any]] = []
        start_key = None
        for _ in range(MAX_PAGES_PER_SHARD):
            items, start_key = self.db.query_page(self.table, limit=limit, start_key=start_key, **kwargs)
            out += items
            if len(out) >= limit or start_key is None:
                break
        return out[:limit]

    def _hour(self, hour: datetime, lo: str, hi: str, limit: int, newest_first: bool, f: FeedFilter) -> list[FeedRow]:
        """Rows of one hour with lo <= position <= hi, the `limit` newest (or oldest), merged over shards."""
        per_shard = [self._shard(pk, lo, hi, limit, newest_first, f) for pk in keys.feed_partitions(hour)]
        merged = heapq.merge(*per_shard, key=lambda i: i["sk"], reverse=newest_first)
        return [_row(i) for _, i in zip(range(limit), merged, strict=False)]

    def page(
        self, start: datetime, end: datetime, before: str | None, limit: int, f: FeedFilter
    ) -> tuple[list[FeedRow], str | None]:
        """The `limit` newest rows recorded in [start, end] and older than the cursor `before`;
        the next cursor (None when the range is exhausted). New rows always sort after every
        cursor already handed out, so paging while bets arrive returns each row exactly once."""
        before = position_of(before) if before else None
        # BETWEEN is inclusive: the row at `before` itself is dropped below.
        hi = before if before else keys.feed_sort(end, "~")
        top = min(end, _at(before)) if before else end
        lo = keys.feed_sort(start, "")
        rows: list[FeedRow] = []
        for hour in reversed(_hours(start, top)):
            got = [
                r for r in self._hour(hour, lo, hi, limit - len(rows) + 1, True, f) if position_of(r.cursor) != before
            ]
            rows += got[: limit - len(rows)]
            if len(rows) >= limit:
                return rows, rows[-1].cursor
        return rows, None

    def newer(self, since: str, end: datetime, limit: int, f: FeedFilter) -> list[FeedRow]:
        """Rows recorded after the cursor `since` and up to `end`, oldest first (polling): one Query
        per shard for each hour from the cursor's to `end`'s, so a poll with a recent cursor (see
        `mark`) costs the same however long the filter has been quiet."""
        since = position_of(since)
        hi = keys.feed_sort(end, "~")
        rows: list[FeedRow] = []
        for hour in _hours(_at(since), end):
            got = [
                r
                for r in self._hour(hour, since, hi, limit - len(rows) + 1, False, f)
                if position_of(r.cursor) != since
            ]
            rows += got[: limit - len(rows)]
            if len(rows) >= limit:
                break
        return rows

    def mark(self, at: datetime, after: str | None = None) -> str:
        """A since-cursor past every row recorded up to `at` ('~' sorts after every id)."""
        pos = keys.feed_sort(at, "~")
        return after if after is not None and position_of(after) > pos else position_token(pos)

    def set_writer(self, bet: Bet, writer_id: str) -> None:
        """The writer a slip linked the bet to, on its feed row (no row, e.g. older bets: nothing)."""
        at = bet.received_at
        self.db.update(
            self.table,
            {"pk": keys.feed(at, bet.bet_id), "sk": keys.feed_sort(at, bet.bet_id)},
            "SET writer_id = :w",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values(w=writer_id),
        )


def _hours(start: datetime, end: datetime) -> list[datetime]:
    h = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    out = []
    while h <= end:
        out.append(h)
        h += timedelta(hours=1)
    return out


def _at(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(cursor.split("#", 1)[0].replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("cursor: not a position this API returned", [{"field": "cursor", "message": "invalid"}]) from exc
