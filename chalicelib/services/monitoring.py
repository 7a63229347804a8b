"""Monitoring: evaluate the rules, raise each alert once, publish the outbox.

Two triggers. On the bet path (`on_bet`), a subject's bet-triggered rules (velocity by default)
are evaluated over the history already read to score the bet: no extra read. On the schedule
(`run`), only subjects with new activity since the last run are evaluated, one Query of each one's
bets: the work follows the new bets, not the number of customers stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.alerts import Alert, AlertEvent
from chalicelib.domain.rules import Context, Rule, Trigger, WindowBet, WindowKnockback
from chalicelib.domain.subjects import SubjectKind, SubjectRef
from chalicelib.ports import ActivityIndex, AlertStore, Notifier, SubjectStore
from chalicelib.services.rules import RuleCatalogue

CHECKPOINT = "evaluate-rules"
FIRST_RUN_LOOKBACK = timedelta(hours=1)
MAX_CATCH_UP = timedelta(hours=24)
# A subject's knockbacks between two times (the knockbacks rule kind reads them).
KnockbackSource = Callable[[SubjectRef, datetime, datetime], list[WindowKnockback]]


def segment_of_bets(bets: list[WindowBet]) -> int | None:
    """The subject's risk segment from its bets (the risk model's KMeans; numpy only)."""
    from chalicelib.domain.risk_history import SubjectHistory
    from chalicelib.risk.segments import segment_of

    past = [b.past for b in bets if b.past is not None]
    if not past:
        return None
    return segment_of(SubjectHistory.of(past, max(p.placed_at for p in past)))


class Monitor:
    def __init__(
        self,
        activity: ActivityIndex,
        subjects: SubjectStore,
        alerts: AlertStore,
        notifier: Notifier,
        rules: RuleCatalogue,
        currency: str,
        clock: Clock = utcnow,
        knockbacks: KnockbackSource | None = None,
    ):
        self.activity, self.subjects, self.alerts, self.notifier = activity, subjects, alerts, notifier
        self.rules = rules
        self.currency = currency
        self.clock = clock
        self.knockbacks = knockbacks

    def _rules(self, trigger: Trigger, kind: SubjectKind | None = None) -> list[Rule]:
        return [
            r
            for r in self.rules.enabled()
            if r.effective_trigger is trigger and (kind is None or r.subject_kind is kind)
        ]

    # --- the bet path ---------------------------------------------------------------------------

    def on_bet(
        self,
        subject: SubjectRef,
        bets: list[WindowBet],
        now: datetime,
        category: str | None = None,
        segment: int | None = None,
    ) -> list[Alert]:
        """Bet-triggered rules of `subject` over its bets up to the one just recorded; alerts raised
        are published at once (what cannot be sent stays in the outbox for the schedule)."""
        rules = self._rules(Trigger.bet, subject.kind)
        raised = self._evaluate(subject, bets, now, rules, category=category, segment=segment)
        self.publish([a for a in raised if not a.shadow])
        return raised

    def on_writer_bet(self, writer: SubjectRef, bet: WindowBet) -> list[Alert]:
        """A bet attributed to a writer by its slip: the writer's bet-triggered rules (one Query of
        the writer's bets, only when there are such rules)."""
        rules = self._rules(Trigger.bet, writer.kind)
        if not rules:
            return []
        lookback = max(r.lookback for r in rules)
        bets = self.subjects.bets_between(writer, bet.placed_at - lookback, bet.placed_at)
        if bet.bet_id not in {b.bet_id for b in bets}:
            bets.append(bet)
        return self.on_bet(writer, bets, bet.placed_at)

    # --- the schedule ---------------------------------------------------------------------------

    def evaluate(self, now: datetime) -> list[Alert]:
        """Schedule-triggered rules for every subject with new activity since the last run."""
        rules = self._rules(Trigger.schedule)
        # Evaluated as of the later of the event's time and the clock: a delayed or retried event
        # still sees every bet recorded so far (cooldowns keep alerts to one per window).
        end = max(now, self.clock())
        start = self.activity.checkpoint(CHECKPOINT) or now - FIRST_RUN_LOOKBACK
        start = max(start, end - MAX_CATCH_UP)
        raised: list[Alert] = []
        if rules:
            for subject in sorted(self.activity.active_between(start, end)):
                mine = [r for r in rules if r.subject_kind is subject.kind and r.kind != "bet_run"]
                if not mine:
                    continue
                lookback = max(r.lookback for r in mine)
                bets = self.subjects.bets_between(subject, end - lookback, end) if lookback else []
                raised += self._evaluate(subject, bets, end, mine)
            for rule in (r for r in rules if r.kind == "bet_run"):
                raised += self._bet_run(rule, end)
        self.activity.set_checkpoint(CHECKPOINT, end)
        return raised

    def _bet_run(self, rule: Rule, now: datetime) -> list[Alert]:
        """A selection backed by several customers: the recent bets of every customer active in the window."""
        start = now - rule.lookback
        bets: list[WindowBet] = []
        for subject in sorted(self.activity.active_between(start, now)):
            if subject.kind is SubjectKind.customer:
                bets += self.subjects.bets_between(subject, start, now)
        anyone = SubjectRef(SubjectKind.customer, "*")
        return self._evaluate(anyone, bets, now, [rule])

    def _evaluate(
        self,
        subject: SubjectRef,
        bets: list[WindowBet],
        now: datetime,
        rules: list[Rule],
        category: str | None = None,
        segment: int | None = None,
    ) -> list[Alert]:
        raised: list[Alert] = []
        links: list[str] | None = None
        kbs: list[WindowKnockback] | None = None
        if segment is None and any(r.segment is not None for r in rules):
            segment = segment_of_bets(bets)
        for rule in rules:
            if rule.kind == "multi_account" and links is None:
                links = [r.id for r in self.subjects.links(subject) if r.kind is SubjectKind.customer]
            if rule.kind == "client_category" and category is None:
                category = self.subjects.status(subject).category.value
            if rule.kind == "knockbacks" and kbs is None:
                span = max(r.lookback for r in rules if r.kind == "knockbacks")
                kbs = self.knockbacks(subject, now - span, now) if self.knockbacks else []
            ctx = Context(
                currency=self.currency,
                linked_customers=links or (),
                category=category,
                segment=segment,
                knockbacks=kbs or (),
            )
            for alert in rule.evaluate(subject, bets, now, ctx):
                alert.events.append(AlertEvent(at=now, actor="system", action="raised", status=alert.status))
                if self.alerts.create(alert, rule.cooldown):
                    raised.append(alert)
                    obs.count(obs.ALERTS_SHADOW if alert.shadow else obs.ALERTS_RAISED)
                    logger.info(
                        "alert raised",
                        extra={"alert_id": alert.alert_id, "rule_id": rule.rule_id, "shadow": alert.shadow},
                    )
        return raised

    # --- sending --------------------------------------------------------------------------------

    def publish(self, alerts: list[Alert]) -> list[str]:
        done = []
        for alert in alerts:
            try:
                message_id = self.notifier.publish(alert)
            except Exception:  # noqa: BLE001 - it stays in the outbox; the schedule retries it
                logger.exception("alert not published yet", extra={"alert_id": alert.alert_id})
                continue
            self.alerts.mark_published(alert.alert_id, self.clock(), message_id)
            done.append(alert.alert_id)
            obs.count(obs.ALERTS_PUBLISHED)
        return done

    def publish_pending(self, limit: int = 100) -> list[str]:
        """Publish alerts still in the outbox; returns the ids published."""
        pending = self.alerts.pending(limit)
        done = self.publish(pending)
        if len(done) < len(pending):
            raise RuntimeError(f"{len(pending) - len(done)} alerts could not be published; they stay in the outbox")
        return done

    def run(self, now: datetime) -> dict[str, int]:
        """What the schedule does: evaluate, then publish everything still in the outbox."""
        with obs.timed(obs.RULE_RUN_MS):
            new = self.evaluate(now)
        published = self.publish_pending()
        return {"raised": len([a for a in new if not a.shadow]), "published": len(published)}
