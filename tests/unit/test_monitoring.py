"""Monitoring on in-memory stores: the bet path (velocity, published at once), the schedule (only
subjects with new activity), one alert per cooldown, snoozes, shadow rules, the outbox, and a rule
run whose reads follow the new bets, not the number of stored subjects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.core import config
from chalicelib.domain.bets import BetIn
from chalicelib.domain.rules import RuleSpec
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import Clock, bet_body

# Midday UTC (midday or 13:00 UK): at night the harm screen's night-bets point would join in.
T0 = (datetime.now(UTC) - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def c(clock: Clock) -> wiring.Container:
    return wiring.in_memory(config.from_env({}), clock=clock)


def place(c: wiring.Container, customer: str | None, stake: str, ago: timedelta, **kw: object) -> str:
    at = c.monitor.clock()
    b = BetIn.model_validate(bet_body(customer_id=customer, stake=stake, placed_at=(at - ago).isoformat(), **kw))
    return c.recorder.record(b, "key:t")[0].bet_id


def sent(c: wiring.Container) -> list[str]:
    notifier = c.adapters.notifier
    assert isinstance(notifier, memory.MemoryNotifier)
    return [f"{a.rule_id}:{a.subject.id}" for a in notifier.sent]


def test_schedule_raises_once_and_publishes_once(c: wiring.Container, clock: Clock) -> None:
    place(c, "C9", "300.00", timedelta(hours=3))
    place(c, "C9", "250.00", timedelta(hours=2))
    place(c, "C1", "20.00", timedelta(hours=1))
    assert c.monitor.run(T0) == {"raised": 1, "published": 1}
    assert sent(c) == ["stake_window_customer:C9"]
    # The same scheduled instant again (a retried event): nothing new.
    assert c.monitor.run(T0) == {"raised": 0, "published": 0}
    # A new bet of C9 within the cooldown: evaluated, but no second alert.
    clock.at = T0 + timedelta(hours=1)
    place(c, "C9", "100.00", timedelta(minutes=1))
    assert c.monitor.run(clock.at) == {"raised": 0, "published": 0}
    notifier = c.adapters.notifier
    assert isinstance(notifier, memory.MemoryNotifier)
    alert = c.alerts.get(notifier.sent[0].alert_id)
    assert alert.published_at is not None and [e.action for e in alert.events] == ["raised", "published"]


def test_alerts_again_after_the_cooldown(c: wiring.Container, clock: Clock) -> None:
    place(c, "C9", "600.00", timedelta(hours=1))
    assert c.monitor.run(T0)["raised"] == 1
    clock.at = T0 + timedelta(hours=25)
    place(c, "C9", "600.00", timedelta(minutes=5))
    assert c.monitor.run(clock.at)["raised"] == 1


def test_velocity_is_raised_on_the_bet_path_and_sent_at_once(c: wiring.Container) -> None:
    for i in range(9):
        place(c, "FAST", "2.00", timedelta(seconds=50 - i))
    assert sent(c) == []
    place(c, "FAST", "2.00", timedelta(seconds=30))  # the tenth within 60 s
    assert sent(c) == ["velocity_customer:FAST"]
    place(c, "FAST", "2.00", timedelta(seconds=29))  # the eleventh: in the cooldown
    assert sent(c) == ["velocity_customer:FAST"]
    assert c.monitor.run(T0)["published"] == 0  # nothing left in the outbox


def test_snoozed_subjects_raise_nothing(c: wiring.Container) -> None:
    c.adapters.alerts.snooze("stake_window_customer", SubjectRef.customer("C9"), T0 + timedelta(hours=2), "user:a")
    place(c, "C9", "600.00", timedelta(hours=1))
    assert c.monitor.run(T0)["raised"] == 0


def test_shadow_rules_record_hits_and_send_nothing(c: wiring.Container) -> None:
    spec = RuleSpec.model_validate(
        {
            "name": "small stakes",
            "subject_kind": "customer",
            "mode": "shadow",
            "params": {"kind": "stake_window", "threshold_minor": 1_000},
        }
    )
    c.rules.create("small_shadow", spec, "user:admin")
    place(c, "C1", "20.00", timedelta(hours=1))
    assert c.monitor.run(T0) == {"raised": 0, "published": 0}
    from chalicelib.ports import AlertQuery

    hits, _ = c.alerts.search(AlertQuery(rule_id="small_shadow", shadow=True), 10, None)
    assert len(hits) == 1 and hits[0].shadow and sent(c) == []
    assert c.alerts.search(AlertQuery(), 10, None)[0] == []  # not among the alerts


def test_a_failed_publish_stays_in_the_outbox(c: wiring.Container) -> None:
    place(c, "C9", "600.00", timedelta(hours=1))

    class Down:
        def publish(self, alert: object) -> str:
            raise ConnectionError("SNS unreachable")

    real = c.monitor.notifier
    c.monitor.notifier = Down()
    with pytest.raises(RuntimeError, match="outbox"):
        c.monitor.run(T0)  # the schedule's invocation fails, so it is retried
    assert len(c.adapters.alerts.pending(10)) == 1
    c.monitor.notifier = real
    assert c.monitor.publish_pending() and c.adapters.alerts.pending(10) == []


def test_disabled_rules_are_not_evaluated(c: wiring.Container) -> None:
    for r in c.rules.all():
        c.rules.set_enabled(r.rule_id, False, "user:admin")
    place(c, "C9", "900.00", timedelta(hours=1))
    subjects = c.adapters.subjects
    assert isinstance(subjects, memory.MemorySubjects)
    before = subjects.calls.counts["subjects.bets_between"]
    assert c.monitor.evaluate(T0) == []
    assert subjects.calls.counts["subjects.bets_between"] == before


def _reads_of_a_run(stored_subjects: int) -> int:
    """Store `stored_subjects` customers' bets, run, then 10 new bets, and count the next run's reads."""
    clock = Clock(T0 - timedelta(minutes=20))
    c = wiring.in_memory(config.from_env({}), clock=clock)
    for i in range(stored_subjects):
        place(c, f"OLD{i}", "5.00", timedelta(hours=2))
    clock.at = T0 - timedelta(minutes=10)
    c.monitor.run(clock.at)  # their activity is evaluated once, then behind the checkpoint
    clock.at = T0
    for i in range(10):
        place(c, f"NEW{i % 5}", "5.00", timedelta(minutes=30))
    subjects = c.adapters.subjects
    assert isinstance(subjects, memory.MemorySubjects)
    subjects.calls.counts.clear()
    c.monitor.run(T0)
    return sum(subjects.calls.counts.values())


def test_a_rule_runs_reads_follow_new_bets_not_stored_subjects() -> None:
    small, large = _reads_of_a_run(100), _reads_of_a_run(1000)
    assert large <= 1.1 * small, (small, large)
    assert small > 0
