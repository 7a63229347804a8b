"""Reading alerts: by id, and the newest first over a number of days."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import NotFound
from chalicelib.ports import AlertStore


class AlertReader:
    def __init__(self, alerts: AlertStore, clock: Clock = utcnow):
        self.alerts = alerts
        self.clock = clock

    def get(self, alert_id: str) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    def recent(self, days: int, limit: int) -> list[Alert]:
        now = self.clock()
        return self.alerts.recent(now - timedelta(days=days - 1), now, limit)
