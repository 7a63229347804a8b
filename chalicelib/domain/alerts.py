"""Alerts as first-class records: id, rule and version, subject, severity, status, a generic
metric, the evidence behind it and an audit trail of events."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from chalicelib.domain.subjects import SubjectRef

Severity = Literal["info", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "medium", "high", "critical")


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    escalated = "escalated"


class Metric(BaseModel):
    """What was measured against what: e.g. stake 53,000 minor units over a 50,000 threshold."""

    name: str
    value: float
    threshold: float
    unit: str = Field(description="'minor_units' (of the deployment's currency), 'bets', 'ratio', ...")


class Evidence(BaseModel):
    bet_ids: list[str] = Field(default_factory=list)
    slip_ids: list[str] = Field(default_factory=list, description="Bet ids whose slips are behind the alert.")
    shops: list[str] = Field(default_factory=list)


class AlertEvent(BaseModel):
    at: datetime
    actor: str = Field(description="'system' or the principal that acted.")
    action: str = Field(description="raised, published, acknowledged, noted, resolved, escalated, ...")
    status: AlertStatus | None = None
    note: str | None = None


class Alert(BaseModel):
    alert_id: str
    rule_id: str
    rule_version: int = 1
    subject: SubjectRef
    severity: Severity
    status: AlertStatus = AlertStatus.open
    title: str
    detail: str
    metric: Metric
    evidence: Evidence = Field(default_factory=Evidence)
    window_hours: int | None = None
    shadow: bool = Field(default=False, description="Raised by a rule in shadow mode: recorded, never sent.")
    assignee: str | None = None
    outcome: str | None = None
    raised_at: datetime
    published_at: datetime | None = None
    events: list[AlertEvent] = Field(default_factory=list)


def alert_id(rule_id: str, subject: SubjectRef, raised_at: datetime) -> str:
    """Deterministic: a retried evaluation at the same instant produces the same id."""
    raw = f"{rule_id}|{subject.kind.value}|{subject.id}|{raised_at.astimezone(UTC).isoformat()}"
    return "al-" + hashlib.sha256(raw.encode()).hexdigest()[:20]


def in_cooldown(last_alert_at: datetime | None, now: datetime, cooldown: timedelta) -> bool:
    """True when the rule already alerted on the subject within `cooldown` before `now`."""
    return last_alert_at is not None and last_alert_at > now - cooldown


class Outcome(StrEnum):
    confirmed_risk = "confirmed_risk"
    false_positive = "false_positive"
    no_action = "no_action"


# The case workflow: which status each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[AlertStatus, ...], AlertStatus]] = {
    "acknowledged": ((AlertStatus.open, AlertStatus.escalated), AlertStatus.acknowledged),
    "resolved": ((AlertStatus.acknowledged, AlertStatus.escalated), AlertStatus.resolved),
    "escalated": ((AlertStatus.open, AlertStatus.acknowledged), AlertStatus.escalated),
}


class IllegalTransition(Exception):
    def __init__(self, alert: Alert, action: str):
        allowed = ", ".join(s.value for s in TRANSITIONS[action][0])
        super().__init__(f"alert {alert.alert_id} is {alert.status.value}; it can be {action} only when {allowed}")


def transition(
    alert: Alert,
    action: str,
    actor: str,
    at: datetime,
    note: str | None = None,
    assignee: str | None = None,
    outcome: Outcome | None = None,
) -> Alert:
    """The alert after `action` by `actor`, with its audit event; IllegalTransition if not allowed."""
    if action == "noted":
        status = alert.status
    else:
        sources, status = TRANSITIONS[action]
        if alert.shadow or alert.status not in sources:
            raise IllegalTransition(alert, action)
    changed = alert.model_copy(deep=True)
    changed.status = status
    if action == "acknowledged":
        changed.assignee = assignee or actor
    if action == "resolved":
        changed.outcome = outcome.value if outcome else None
    changed.events.append(AlertEvent(at=at, actor=actor, action=action, status=status, note=note))
    return changed
