"""Monitoring: evaluate the rules over rolling windows, raise each alert once, publish the outbox.

Whom to evaluate comes from the activity index (subjects that bet within the longest window);
each subject's bets from one Query of its items: no Scan anywhere.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.alerts import Alert, AlertEvent
from chalicelib.domain.rules import StakeWindowRule
from chalicelib.ports import ActivityIndex, AlertStore, Notifier, SubjectStore


class Monitor:
    def __init__(
        self,
        activity: ActivityIndex,
        subjects: SubjectStore,
        alerts: AlertStore,
        notifier: Notifier,
        rules: list[StakeWindowRule],
        currency: str,
        clock: Clock = utcnow,
    ):
        self.activity, self.subjects, self.alerts, self.notifier = activity, subjects, alerts, notifier
        self.rules = rules
        self.currency = currency
        self.clock = clock

    def evaluate(self, now: datetime) -> list[Alert]:
        """Evaluate every rule at `now`; returns the alerts newly raised."""
        raised: list[Alert] = []
        if not self.rules:
            return raised
        longest = max(r.window for r in self.rules)
        for subject in sorted(self.activity.active_subjects(now - longest, now)):
            rules = [r for r in self.rules if r.subject_kind is subject.kind]
            if not rules:
                continue
            bets = self.subjects.bets_between(subject, now - max(r.window for r in rules), now)
            for rule in rules:
                alert = rule.evaluate(subject, bets, now, self.currency)
                if alert is None:
                    continue
                alert.events.append(AlertEvent(at=now, actor="system", action="raised", status=alert.status))
                if self.alerts.create(alert, rule.cooldown):
                    raised.append(alert)
                    obs.count(obs.ALERTS_RAISED)
                    logger.info("alert raised", extra={"alert_id": alert.alert_id, "rule_id": rule.rule_id})
        return raised

    def publish_pending(self, limit: int = 100) -> list[str]:
        """Publish alerts still in the outbox; returns the ids published."""
        done = []
        for alert in self.alerts.pending(limit):
            message_id = self.notifier.publish(alert)
            self.alerts.mark_published(alert.alert_id, self.clock(), message_id)
            done.append(alert.alert_id)
            obs.count(obs.ALERTS_PUBLISHED)
        return done

    def run(self, now: datetime) -> dict[str, int]:
        """What the schedule does: evaluate, then publish everything still in the outbox."""
        with obs.timed(obs.RULE_RUN_MS):
            new = self.evaluate(now)
        published = self.publish_pending()
        return {"raised": len(new), "published": len(published)}
