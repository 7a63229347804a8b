"""Monitoring on in-memory stores: whom it evaluates, each alert raised once per cooldown,
published once from the outbox, retries of the same instant raising nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.core import config
from chalicelib.domain.bets import BetIn
from tests.helpers import bet_body

NOW = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)


@pytest.fixture
def c() -> wiring.Container:
    return wiring.in_memory(config.from_env({}))


def place(c: wiring.Container, customer: str | None, stake: str, ago: timedelta) -> str:
    b = BetIn.model_validate(bet_body(customer_id=customer, stake=stake, placed_at=(NOW - ago).isoformat()))
    return c.recorder.record(b, "key:t")[0].bet_id


def test_raises_once_and_publishes_once(c: wiring.Container) -> None:
    place(c, "C9", "300.00", timedelta(hours=3))
    place(c, "C9", "250.00", timedelta(hours=2))
    place(c, "C1", "20.00", timedelta(hours=1))
    assert c.monitor.run(NOW) == {"raised": 1, "published": 1}
    notifier = c.adapters.notifier
    assert isinstance(notifier, memory.MemoryNotifier)
    assert [a.subject.id for a in notifier.sent] == ["C9"]
    # The same scheduled instant again (a retried event) and a later run inside the cooldown: nothing.
    assert c.monitor.run(NOW) == {"raised": 0, "published": 0}
    assert c.monitor.run(NOW + timedelta(hours=1)) == {"raised": 0, "published": 0}
    stored = c.alerts.get(notifier.sent[0].alert_id)
    assert stored.published_at is not None and [e.action for e in stored.events] == ["raised", "published"]


def test_alerts_again_after_the_cooldown(c: wiring.Container) -> None:
    place(c, "C9", "600.00", timedelta(hours=1))
    assert c.monitor.run(NOW)["raised"] == 1
    place(c, "C9", "600.00", timedelta(hours=-23))  # a new bet a day later
    assert c.monitor.run(NOW + timedelta(hours=24))["raised"] == 1


def test_only_subjects_active_in_the_window_are_read(c: wiring.Container) -> None:
    subjects = c.adapters.subjects
    assert isinstance(subjects, memory.MemorySubjects)
    place(c, "OLD", "900.00", timedelta(days=3))
    place(c, "NEW", "10.00", timedelta(hours=1))
    before = subjects.calls.counts["subjects.bets_between"]
    c.monitor.evaluate(NOW)
    assert subjects.calls.counts["subjects.bets_between"] - before == 1  # NEW only


def test_a_failed_publish_stays_in_the_outbox(c: wiring.Container) -> None:
    place(c, "C9", "600.00", timedelta(hours=1))

    class Down:
        def publish(self, alert: object) -> str:
            raise ConnectionError("SNS unreachable")

    real = c.monitor.notifier
    c.monitor.notifier = Down()
    with pytest.raises(ConnectionError):
        c.monitor.run(NOW)
    assert len(c.adapters.alerts.pending(10)) == 1
    c.monitor.notifier = real
    assert c.monitor.publish_pending() and c.adapters.alerts.pending(10) == []


def test_no_rules_no_reads(c: wiring.Container) -> None:
    c.monitor.rules = []
    assert c.monitor.evaluate(NOW) == []
