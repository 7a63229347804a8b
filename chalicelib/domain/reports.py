"""Reports staff read: the daily report and a customer's or writer's report (figures, pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from chalicelib.domain.feed import FeedRow


class Count(BaseModel):
    key: str
    bets: int = 0
    stake_minor: int = 0
    knockbacks: int = 0


class AlertCount(BaseModel):
    rule_id: str
    raised: int = 0
    resolved: int = 0


class Totals(BaseModel):
    bets: int = 0
    knockbacks: int = 0
    sms_requests: int = 0
    kb_pct: float = Field(default=0.0, description="Knockbacks as a % of bets + knockbacks")
    stake_minor: int = 0
    avg_stake_minor: int = 0
    settled_bets: int = 0
    profit_minor: int = Field(default=0, description="Settled P/L from the customers' side (negative: the book won)")


class DailyReport(BaseModel):
    date: str
    generated_at: datetime
    currency: str
    totals: Totals
    this_week_daily_avg: Totals | None = Field(default=None, description="Average day of this week before this one")
    last_week_daily_avg: Totals | None = None
    clients_by_category: dict[str, int] = Field(default_factory=dict, description="Unique customers by category")
    by_sport: list[Count] = Field(default_factory=list)
    by_channel: list[Count] = Field(default_factory=list)
    by_shop: list[Count] = Field(default_factory=list)
    top_customers_by_stake: list[Count] = Field(default_factory=list)
    top_customers_by_count: list[Count] = Field(default_factory=list)
    top_customers_by_knockbacks: list[Count] = Field(default_factory=list)
    top_writers_by_stake: list[Count] = Field(default_factory=list)
    top_writers_by_count: list[Count] = Field(default_factory=list)
    bets_per_hour: list[int] = Field(default_factory=lambda: [0] * 24, description="UTC hours 0-23")
    alerts_by_rule: list[AlertCount] = Field(default_factory=list)


class SubjectReport(BaseModel):
    kind: str
    id: str
    since: datetime
    until: datetime
    generated_at: datetime
    currency: str
    totals: Totals
    by_sport: list[Count] = Field(default_factory=list)
    by_channel: list[Count] = Field(default_factory=list)
    by_shop: list[Count] = Field(default_factory=list)
    bets_per_day: dict[str, int] = Field(default_factory=dict)
    bets_per_hour: list[int] = Field(default_factory=lambda: [0] * 24)
    alerts: list[dict[str, object]] = Field(
        default_factory=list, description="Alert id, rule, severity, status, raised"
    )
    linked: list[str] = Field(
        default_factory=list, description="Linked writers (of a customer) or customers (of a writer)"
    )
    slips: list[str] = Field(default_factory=list)
    category: str | None = None
    segment: int | None = None
    segment_name: str | None = None


TOP = 10


def counts(rows: Iterable[FeedRow], key: str) -> list[Count]:
    acc: dict[str, Count] = {}
    for r in rows:
        k = getattr(r, key) or "(none)"
        c = acc.setdefault(k, Count(key=k))
        if r.record_type == "knockback":
            c.knockbacks += 1
        elif r.record_type == "bet":
            c.bets += 1
            c.stake_minor += r.stake_minor or 0
    return sorted(acc.values(), key=lambda c: (-c.bets, -c.stake_minor, c.key))


def totals(rows: list[FeedRow], settled: Iterable[int] = ()) -> Totals:
    bets = [r for r in rows if r.record_type == "bet"]
    kbs = sum(1 for r in rows if r.record_type == "knockback")
    stake = sum(r.stake_minor or 0 for r in bets)
    pl = list(settled)
    return Totals(
        bets=len(bets),
        knockbacks=kbs,
        sms_requests=sum(1 for r in rows if r.record_type == "sms"),
        kb_pct=round(100 * kbs / (len(bets) + kbs), 1) if bets or kbs else 0.0,
        stake_minor=stake,
        avg_stake_minor=stake // len(bets) if bets else 0,
        settled_bets=len(pl),
        profit_minor=sum(pl),
    )


def average(days: list[Totals]) -> Totals | None:
    if not days:
        return None
    n = len(days)
    t = Totals(
        bets=round(sum(d.bets for d in days) / n),
        knockbacks=round(sum(d.knockbacks for d in days) / n),
        sms_requests=round(sum(d.sms_requests for d in days) / n),
        stake_minor=round(sum(d.stake_minor for d in days) / n),
        settled_bets=round(sum(d.settled_bets for d in days) / n),
        profit_minor=round(sum(d.profit_minor for d in days) / n),
    )
    t.kb_pct = round(sum(d.kb_pct for d in days) / n, 1)
    t.avg_stake_minor = t.stake_minor // t.bets if t.bets else 0
    return t


def daily(
    day: str,
    rows: list[FeedRow],
    generated_at: datetime,
    currency: str,
    categories: dict[str, str],
    alerts: list[AlertCount],
    settled: Iterable[int] = (),
) -> DailyReport:
    """The day's figures from its feed rows (bets, knockbacks, SMS requests)."""
    bets = [r for r in rows if r.record_type == "bet"]
    per_hour = [0] * 24
    for r in bets:
        per_hour[int(r.recorded_at[11:13])] += 1
    customers = counts([r for r in rows if r.customer_id], "customer_id")
    writers = [c for c in counts([r for r in bets if r.writer_id], "writer_id")]
    by_category: Counter[str] = Counter()
    for c in {r.customer_id for r in rows if r.customer_id}:
        by_category[categories.get(str(c), "none")] += 1
    return DailyReport(
        date=day,
        generated_at=generated_at,
        currency=currency,
        totals=totals(rows, settled),
        clients_by_category=dict(sorted(by_category.items())),
        by_sport=counts(bets, "sport"),
        by_channel=counts(rows, "channel"),
        by_shop=counts([r for r in rows if r.shop_id], "shop_id"),
        top_customers_by_stake=sorted(customers, key=lambda c: (-c.stake_minor, c.key))[:TOP],
        top_customers_by_count=sorted(customers, key=lambda c: (-c.bets, c.key))[:TOP],
        top_customers_by_knockbacks=[
            c for c in sorted(customers, key=lambda c: (-c.knockbacks, c.key)) if c.knockbacks
        ][:TOP],
        top_writers_by_stake=sorted(writers, key=lambda c: (-c.stake_minor, c.key))[:TOP],
        top_writers_by_count=sorted(writers, key=lambda c: (-c.bets, c.key))[:TOP],
        bets_per_hour=per_hour,
        alerts_by_rule=alerts,
    )


def alerts_by_rule(raised: Iterable[tuple[str, bool]]) -> list[AlertCount]:
    """(rule id, resolved that day) per alert event."""
    acc: dict[str, AlertCount] = defaultdict(lambda: AlertCount(rule_id=""))
    for rule_id, resolved in raised:
        c = acc[rule_id]
        c.rule_id = rule_id
        if resolved:
            c.resolved += 1
        else:
            c.raised += 1
    return sorted(acc.values(), key=lambda c: c.rule_id)
