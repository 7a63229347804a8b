"""Backtests: run a rule (stored, or a draft) over stored history and report the hits it would
have raised, writing nothing. Each subject's bets are replayed in order, the rule evaluated as each
bet arrived and its cooldown applied, as the live monitors would have done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.alerts import Alert, in_cooldown
from chalicelib.domain.errors import Invalid
from chalicelib.domain.rules import Context, Rule
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import SubjectStore

MAX_SUBJECTS = 5_000
MAX_BETS = 200_000
MAX_HITS = 500


@dataclass
class BacktestReport:
    rule: Rule
    days: int
    since: datetime
    until: datetime
    subjects_evaluated: int = 0
    bets_replayed: int = 0
    hits_total: int = 0
    hits: list[Alert] = field(default_factory=list)
    truncated: bool = False


class Backtester:
    def __init__(self, subjects: SubjectStore, currency: str, clock: Clock = utcnow):
        self.subjects = subjects
        self.currency = currency
        self.clock = clock

    def run(self, rule: Rule, days: int) -> BacktestReport:
        if not 1 <= days <= 31:
            raise Invalid("days: from 1 to 31 (the history kept)")
        if rule.kind in ("bet_run", "multi_account"):
            raise Invalid(f"params.kind: {rule.kind} rules look across subjects and cannot be backtested yet")
        until = self.clock()
        since = until - timedelta(days=days)
        report = BacktestReport(rule=rule, days=days, since=since, until=until)
        subjects: set[SubjectRef] = set()
        day = since
        while day.date() <= until.date():
            subjects |= {s for s in self.subjects.seen_on(day) if s.kind is rule.subject_kind}
            day += timedelta(days=1)
        ctx = Context(currency=self.currency)
        for subject in sorted(subjects):
            if report.subjects_evaluated >= MAX_SUBJECTS or report.bets_replayed >= MAX_BETS:
                report.truncated = True
                break
            report.subjects_evaluated += 1
            bets = sorted(
                self.subjects.bets_between(subject, since - rule.lookback, until),
                key=lambda b: (b.placed_at, b.bet_id),
            )
            last: datetime | None = None
            for i, b in enumerate(bets):
                if b.placed_at < since:
                    continue
                report.bets_replayed += 1
                for alert in rule.evaluate(subject, bets[: i + 1], b.placed_at, ctx):
                    if in_cooldown(last, b.placed_at, rule.cooldown):
                        continue
                    last = b.placed_at
                    report.hits_total += 1
                    if len(report.hits) < MAX_HITS:
                        report.hits.append(alert)
        return report
