"""The stake rule: fires at the threshold and not one minor unit below, severity by multiple,
window edges, subject kinds; and the cooldown predicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.alerts import in_cooldown
from chalicelib.domain.rules import StakeWindowRule, WindowBet, default_rules
from chalicelib.domain.subjects import SubjectKind, SubjectRef

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
C = SubjectRef.customer("C1")
W = SubjectRef.writer("w-1")


def rule(**kw: object) -> StakeWindowRule:
    base: dict[str, object] = {
        "rule_id": "r",
        "subject_kind": SubjectKind.customer,
        "window_hours": 24,
        "threshold_minor": 50_000,
    }
    return StakeWindowRule.model_validate(base | kw)


def bets(*stakes: int, hours_ago: float = 1.0, shop: str | None = "S1") -> list[WindowBet]:
    return [
        WindowBet(f"b{i}", s, NOW - timedelta(hours=hours_ago, minutes=i), shop, has_slip=i % 2 == 0)
        for i, s in enumerate(stakes)
    ]


def test_fires_at_the_threshold_not_one_below() -> None:
    assert rule().evaluate(C, bets(30_000, 19_999), NOW, "GBP") is None
    alert = rule().evaluate(C, bets(30_000, 20_000), NOW, "GBP")
    assert alert is not None and alert.metric.value == 50_000 and alert.metric.threshold == 50_000


@pytest.mark.parametrize(
    ("total", "severity"), [(50_000, "high"), (199_999, "high"), (200_000, "critical"), (900_000, "critical")]
)
def test_severity_is_critical_from_the_multiple(total: int, severity: str) -> None:
    alert = rule().evaluate(C, bets(total), NOW, "GBP")
    assert alert is not None and alert.severity == severity


def test_critical_multiple_is_a_parameter() -> None:
    assert rule(critical_multiple=2).severity(100_000) == "critical"
    assert rule(critical_multiple=2).severity(99_999) == "high"


def test_only_bets_inside_the_window_count() -> None:
    inside = bets(40_000, hours_ago=23.9)
    edge = [WindowBet("edge", 10_000, NOW - timedelta(hours=24))]  # exactly at the start: counts
    outside = [WindowBet("old", 10_000, NOW - timedelta(hours=24, seconds=1))]
    assert rule().evaluate(C, inside + outside, NOW, "GBP") is None
    fired = rule().evaluate(C, inside + edge, NOW, "GBP")
    assert fired is not None and "edge" in fired.evidence.bet_ids
    future = [WindowBet("later", 10_000, NOW + timedelta(seconds=1))]
    assert rule().evaluate(C, inside + future, NOW, "GBP") is None


def test_a_rule_only_judges_its_subject_kind() -> None:
    assert rule().evaluate(W, bets(90_000), NOW, "GBP") is None
    assert rule(subject_kind=SubjectKind.writer).evaluate(W, bets(90_000), NOW, "GBP") is not None


def test_alert_carries_rule_version_evidence_and_words() -> None:
    alert = rule(version=3).evaluate(W if False else C, bets(30_000, 25_000), NOW, "GBP")
    assert alert is not None
    assert alert.rule_version == 3 and alert.window_hours == 24 and alert.raised_at == NOW
    assert alert.evidence.bet_ids == ["b0", "b1"] and alert.evidence.slip_ids == ["b0"]
    assert alert.evidence.shops == ["S1"]
    assert alert.title == "customer C1 staked £550.00 in 24 h"
    assert "2 bets totalling £550.00" in alert.detail and "£500.00 threshold" in alert.detail


def test_alert_id_is_deterministic_per_rule_subject_and_instant() -> None:
    a = rule().evaluate(C, bets(60_000), NOW, "GBP")
    b = rule().evaluate(C, bets(60_000), NOW, "GBP")
    c = rule().evaluate(C, bets(60_000), NOW + timedelta(seconds=1), "GBP")
    assert a and b and c and a.alert_id == b.alert_id != c.alert_id


def test_cooldown_defaults_to_the_window() -> None:
    assert rule().cooldown == timedelta(hours=24)
    assert rule(cooldown_hours=6).cooldown == timedelta(hours=6)


def test_in_cooldown_boundaries() -> None:
    cd = timedelta(hours=24)
    assert in_cooldown(None, NOW, cd) is False
    assert in_cooldown(NOW - timedelta(hours=23, minutes=59), NOW, cd) is True
    assert in_cooldown(NOW - cd, NOW, cd) is False  # exactly one cooldown later: may alert again
    assert in_cooldown(NOW - timedelta(hours=25), NOW, cd) is False


def test_invalid_parameters_are_refused() -> None:
    for bad in ({"window_hours": 0}, {"threshold_minor": 0}, {"critical_multiple": 1}, {"cooldown_hours": 0}):
        with pytest.raises(ValueError):
            rule(**bad)


def test_default_rules_cover_customers_and_writers() -> None:
    kinds = {r.subject_kind for r in default_rules(24, 50_000)}
    assert kinds == {SubjectKind.customer, SubjectKind.writer}
