"""Reports: the daily report (from the day's feed rows, its alerts and the categories of its
customers) and a customer's or writer's report over a period; generated on demand through the
API and by the schedule into the reports bucket as HTML (charts inline), CSV and JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.feed import FeedFilter, FeedRow
from chalicelib.domain.reports import DailyReport, SubjectReport, alerts_by_rule, average, counts, daily, totals
from chalicelib.domain.rules import WindowBet, WindowKnockback
from chalicelib.domain.subjects import SubjectKind, SubjectRef
from chalicelib.ports import AlertQuery, AlertStore, FeedStore, FileStore, SubjectStore
from chalicelib.services.monitoring import KnockbackSource, segment_of_bets
from chalicelib.services.profiles import segment_name
from chalicelib.services.report_render import daily_csv, daily_html, subject_html

PAGE = 1000
MAX_ALERT_PAGES = 50


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


class Reports:
    def __init__(
        self,
        feed: FeedStore,
        subjects: SubjectStore,
        alerts: AlertStore,
        files: FileStore,
        bucket: str,
        currency: str,
        clock: Clock = utcnow,
        knockbacks: KnockbackSource | None = None,
    ):
        self.feed, self.subjects, self.alerts, self.files = feed, subjects, alerts, files
        self.bucket, self.currency, self.clock = bucket, currency, clock
        self.knockbacks = knockbacks

    # --- the daily report ---------------------------------------------------------------------

    def _rows(self, day: date) -> list[FeedRow]:
        start, end = day_bounds(day)
        rows: list[FeedRow] = []
        cursor = None
        while True:
            got, cursor = self.feed.page(start, end, cursor, PAGE, FeedFilter())
            rows += got
            if cursor is None:
                return rows

    def _alerts(self, day: date) -> list[tuple[str, bool]]:
        start, end = day_bounds(day)
        events: list[tuple[str, bool]] = []
        for query in (AlertQuery(since=start, until=end), AlertQuery(since=start - timedelta(days=31), until=end)):
            resolved_pass = query.since != start
            cursor = None
            for _ in range(MAX_ALERT_PAGES):
                page, cursor = self.alerts.search(query, 500, cursor)
                for a in page:
                    if not resolved_pass:
                        events.append((a.rule_id, False))
                    elif any(e.action == "resolved" and start <= e.at <= end for e in a.events):
                        events.append((a.rule_id, True))
                if cursor is None:
                    break
        return events

    def daily(self, day: date) -> DailyReport:
        rows = self._rows(day)
        customers = sorted({r.customer_id for r in rows if r.customer_id})
        statuses = self.subjects.statuses([SubjectRef.customer(c) for c in customers]) if customers else {}
        categories = {ref.id: st.category.value for ref, st in statuses.items()}
        report = daily(
            day.isoformat(), rows, self.clock(), self.currency, categories, alerts_by_rule(self._alerts(day))
        )
        report.this_week_daily_avg = average(self._stored_totals(day, this_week=True))
        report.last_week_daily_avg = average(self._stored_totals(day, this_week=False))
        return report

    def _stored_totals(self, day: date, this_week: bool) -> list:  # type: ignore[type-arg]
        monday = day - timedelta(days=day.weekday())
        days = (
            [monday + timedelta(days=i) for i in range((day - monday).days)]
            if this_week
            else [monday - timedelta(days=7 - i) for i in range(7)]
        )
        out = []
        for d in days:
            raw = self.files.read_optional(self.bucket, f"daily/{d.isoformat()}.json")
            if raw is not None:
                out.append(DailyReport.model_validate_json(raw).totals)
        return out

    def write_daily(self, day: date) -> DailyReport:
        report = self.daily(day)
        base = f"daily/{day.isoformat()}"
        self.files.write(self.bucket, f"{base}.json", report.model_dump_json().encode())
        self.files.write(self.bucket, f"{base}.html", daily_html(report).encode())
        self.files.write(self.bucket, f"{base}.csv", daily_csv(report).encode())
        return report

    def run_schedule(self) -> dict[str, int]:
        """Yesterday's report (final) and today's so far."""
        today = self.clock().date()
        y = self.write_daily(today - timedelta(days=1))
        t = self.write_daily(today)
        return {"yesterday_bets": y.totals.bets, "today_bets": t.totals.bets}

    # --- one subject ----------------------------------------------------------------------------

    def subject(self, ref: SubjectRef, days: int) -> SubjectReport:
        until = self.clock()
        since = until - timedelta(days=days)
        bets, status = self.subjects.recent(ref, since, until)
        rows = [_row(b) for b in bets]
        if self.knockbacks is not None:  # the customer's knockbacks count (KB %) with its bets
            rows += [_kb_row(k) for k in self.knockbacks(ref, since, until)]
        alerts, _ = self.alerts.search(AlertQuery(subject=ref, since=since, until=until), 500, None)
        per_day: dict[str, int] = {}
        per_hour = [0] * 24
        for b in bets:
            per_day[b.placed_at.date().isoformat()] = per_day.get(b.placed_at.date().isoformat(), 0) + 1
            per_hour[b.placed_at.astimezone(UTC).hour] += 1
        segment = segment_of_bets(bets) if ref.kind is SubjectKind.customer else None
        return SubjectReport(
            kind=ref.kind.value,
            id=ref.id,
            since=since,
            until=until,
            generated_at=self.clock(),
            currency=self.currency,
            totals=totals(rows, [b.profit_minor for b in bets if b.profit_minor is not None]),
            by_sport=counts(rows, "sport"),
            by_channel=counts(rows, "channel"),
            by_shop=counts([r for r in rows if r.shop_id], "shop_id"),
            bets_per_day=dict(sorted(per_day.items())),
            bets_per_hour=per_hour,
            alerts=[
                {
                    "alert_id": a.alert_id,
                    "rule_id": a.rule_id,
                    "severity": a.severity,
                    "status": a.status.value,
                    "raised_at": a.raised_at.isoformat(),
                }
                for a in alerts
            ],
            linked=[r.id for r in self.subjects.links(ref)],
            slips=sorted(self.subjects.slips(ref)),
            category=status.category.value,
            segment=segment,
            segment_name=segment_name(segment),
        )

    html_daily = staticmethod(daily_html)
    html_subject = staticmethod(subject_html)
    csv_daily = staticmethod(daily_csv)


def _row(b: WindowBet) -> FeedRow:
    past = b.past
    return FeedRow(
        record_type="bet",
        record_id=b.bet_id,
        cursor="",
        recorded_at=b.placed_at.isoformat(),
        placed_at=b.placed_at.isoformat(),
        customer_id=b.customer_id,
        shop_id=b.shop_id,
        channel=b.channel,
        stake_minor=b.stake_minor,
        sport=getattr(past, "sport", None) or None,
    )


def _kb_row(k: WindowKnockback) -> FeedRow:
    at = k.attempted_at.isoformat()
    return FeedRow(record_type="knockback", record_id=k.knockback_id, cursor="", recorded_at=at, placed_at=at)
