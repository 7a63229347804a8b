"""Threshold rules, evaluated on a schedule over exact rolling windows.

The subjects to check come from the hourly ACTIVE# index (one Query per hour of the window), and
each subject's total from a Query of its BET# items: no Scan anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import alerts, subjects
from chalicelib.config import settings


@dataclass(frozen=True)
class StakeRule:
    """Total stake of one kind of subject within a rolling window reaches a threshold."""

    rule_id: str
    subject_kind: str  # "CUST" or "WRITER"
    window_hours: int
    threshold_minor: int
    critical_multiple: int = 4  # at this multiple of the threshold the alert is critical


def default_rules() -> list[StakeRule]:
    cfg = settings()
    return [
        StakeRule("stake_window_customer", "CUST", cfg.rule_window_hours, cfg.rule_stake_threshold_minor),
        StakeRule("stake_window_writer", "WRITER", cfg.rule_window_hours, cfg.rule_stake_threshold_minor),
    ]


def evaluate(now: datetime | None = None, rules: list[StakeRule] | None = None) -> list[alerts.Alert]:
    """Evaluate every rule at `now`; returns the alerts newly raised."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rules = rules or default_rules()
    cfg = settings()
    raised: list[alerts.Alert] = []
    longest = max(r.window_hours for r in rules)
    active = subjects.active_subjects(now - timedelta(hours=longest), now)
    for subject in sorted(active):
        kind = subject.split("#", 1)[0]
        for rule in (r for r in rules if r.subject_kind == kind):
            items = subjects.bets_between(subject, now - timedelta(hours=rule.window_hours), now)
            total = sum(int(i["stake_minor"]) for i in items)
            if total < rule.threshold_minor:
                continue
            title, detail = alerts.describe_stake(
                subject, total, rule.threshold_minor, len(items), rule.window_hours, cfg.currency
            )
            alert = alerts.Alert(
                alert_id=alerts.alert_id(rule.rule_id, subject, now),
                rule=rule.rule_id,
                subject=subject,
                severity="critical" if total >= rule.threshold_minor * rule.critical_multiple else "high",
                title=title,
                detail=detail,
                metric_minor=total,
                threshold_minor=rule.threshold_minor,
                window_hours=rule.window_hours,
                raised_at=now,
            )
            # One alert per subject and rule per window: the cooldown is the window itself.
            if alerts.raise_alert(alert, cooldown=timedelta(hours=rule.window_hours)):
                raised.append(alert)
    return raised


def run_schedule(now: datetime | None = None) -> dict[str, int]:
    """What the schedule does: evaluate, then publish everything still in the outbox."""
    new = evaluate(now)
    published = alerts.publish_pending()
    return {"raised": len(new), "published": len(published)}


def event_time(event: dict[str, Any]) -> datetime:
    """The scheduled event's own time: a retried delivery evaluates the same instant."""
    raw = event.get("time")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else datetime.now(UTC)
