"""Monitoring rules, evaluated as pure functions over a subject's bets in a window.

A rule decides whether it fires and how severe the alert is; the monitoring service finds whom to
evaluate and the alert store enforces the cooldown (once per subject and rule per cooldown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from chalicelib.domain.alerts import Alert, Evidence, Metric, Severity, alert_id
from chalicelib.domain.money import format_minor
from chalicelib.domain.subjects import SubjectKind, SubjectRef


@dataclass(frozen=True)
class WindowBet:
    """One bet of a subject as a rule sees it."""

    bet_id: str
    stake_minor: int
    placed_at: datetime
    shop_id: str | None = None
    has_slip: bool = False


class StakeWindowRule(BaseModel):
    """Total stake of one kind of subject within a rolling window reaches a threshold."""

    rule_id: str
    version: int = 1
    subject_kind: SubjectKind
    window_hours: int = Field(gt=0)
    threshold_minor: int = Field(gt=0)
    # At this multiple of the threshold the alert is critical; below it, high.
    critical_multiple: float = Field(default=4, gt=1)
    # None: one alert per window (the cooldown is the window itself).
    cooldown_hours: int | None = Field(default=None, gt=0)

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(hours=self.cooldown_hours or self.window_hours)

    def severity(self, total_minor: int) -> Severity:
        return "critical" if total_minor >= self.threshold_minor * self.critical_multiple else "high"

    def evaluate(self, subject: SubjectRef, bets: list[WindowBet], now: datetime, currency: str) -> Alert | None:
        """The alert this rule raises for `subject` at `now`, given its bets in the window, or None."""
        if subject.kind is not self.subject_kind:
            return None
        start = now - self.window
        in_window = [b for b in bets if start <= b.placed_at <= now]
        total = sum(b.stake_minor for b in in_window)
        if total < self.threshold_minor:
            return None
        who = subject.describe()
        money = format_minor(total, currency)
        title = f"{who} staked {money} in {self.window_hours} h"
        detail = (
            f"{who[0].upper() + who[1:]} placed {len(in_window)} bets totalling {money} in the last "
            f"{self.window_hours} hours, over the {format_minor(self.threshold_minor, currency)} threshold."
        )
        return Alert(
            alert_id=alert_id(self.rule_id, subject, now),
            rule_id=self.rule_id,
            rule_version=self.version,
            subject=subject,
            severity=self.severity(total),
            title=title,
            detail=detail,
            metric=Metric(name="stake_total", value=total, threshold=self.threshold_minor, unit="minor_units"),
            evidence=Evidence(
                bet_ids=[b.bet_id for b in in_window],
                slip_ids=[b.bet_id for b in in_window if b.has_slip],
                shops=sorted({b.shop_id for b in in_window if b.shop_id}),
            ),
            window_hours=self.window_hours,
            raised_at=now,
        )


def default_rules(window_hours: int, threshold_minor: int) -> list[StakeWindowRule]:
    """Today's stake rule for customers and for writers."""
    return [
        StakeWindowRule(
            rule_id="stake_window_customer",
            subject_kind=SubjectKind.customer,
            window_hours=window_hours,
            threshold_minor=threshold_minor,
        ),
        StakeWindowRule(
            rule_id="stake_window_writer",
            subject_kind=SubjectKind.writer,
            window_hours=window_hours,
            threshold_minor=threshold_minor,
        ),
    ]
