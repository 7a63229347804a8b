"""Alerts as cases: read and search them, and work them — acknowledge (with an assignee), note,
escalate, resolve with an outcome, snooze the subject for the rule — each action an audit event."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.alerts import Alert, AlertEvent, AlertStatus, IllegalTransition, Outcome, transition
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.ports import AlertQuery, AlertStore

MAX_SNOOZE = timedelta(days=90)
COUNT_CAP = 99  # the menu says "99+" beyond: one bounded Query, whatever the backlog


class AlertCases:
    def __init__(self, alerts: AlertStore, clock: Clock = utcnow):
        self.alerts = alerts
        self.clock = clock

    def get(self, alert_id: str) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    def count(self, status: AlertStatus) -> tuple[int, bool]:
        """How many alerts have this status, up to COUNT_CAP, and whether there are more."""
        n = self.alerts.count(status, COUNT_CAP + 1)
        return min(n, COUNT_CAP), n > COUNT_CAP

    def recent(self, days: int, limit: int) -> list[Alert]:
        now = self.clock()
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return self.alerts.recent(start, now, limit)  # calendar days, today included

    def search(self, query: AlertQuery, limit: int, cursor: str | None) -> tuple[list[Alert], str | None]:
        return self.alerts.search(query, limit, cursor)

    def act(
        self,
        alert_id: str,
        action: str,
        actor: str,
        note: str | None = None,
        assignee: str | None = None,
        outcome: Outcome | None = None,
    ) -> Alert:
        """Apply a case action; of two concurrent actions on one alert, one wins and the other is a 409."""
        current = self.get(alert_id)
        try:
            changed = transition(current, action, actor, self.clock(), note, assignee, outcome)
        except IllegalTransition as exc:
            raise Conflict(str(exc), code="illegal_transition") from exc
        if not self.alerts.update(changed, expected=current.status):
            raise Conflict(f"alert {alert_id} was changed by someone else; read it again", code="concurrent_change")
        return changed

    def snooze(self, alert_id: str, hours: int, actor: str, note: str | None = None) -> Alert:
        """No alert from this rule about this subject until the snooze ends."""
        until = self.clock() + timedelta(hours=hours)
        if timedelta(hours=hours) > MAX_SNOOZE or hours <= 0:
            raise Invalid(f"hours: a snooze lasts 1 to {MAX_SNOOZE.days * 24} hours")
        current = self.get(alert_id)
        self.alerts.snooze(current.rule_id, current.subject, until, actor)
        changed = current.model_copy(deep=True)
        text = f"snoozed until {until.isoformat()}" + (f": {note}" if note else "")
        changed.events.append(AlertEvent(at=self.clock(), actor=actor, action="snoozed", note=text))
        if not self.alerts.update(changed, expected=current.status):
            raise Conflict(f"alert {alert_id} was changed by someone else; read it again", code="concurrent_change")
        return changed
