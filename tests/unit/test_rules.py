"""Every rule kind at its boundary (fires at the threshold, not one below), severity bands,
windows, subject kinds, parameters validated per kind, and the cooldown predicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.alerts import in_cooldown
from chalicelib.domain.rules import Band, Context, Rule, RuleSpec, Trigger, WindowBet, default_rules, harm_points
from chalicelib.domain.subjects import SubjectKind, SubjectRef

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 18:00 UK time (GMT)
C = SubjectRef.customer("C1")
W = SubjectRef.writer("w-1")
CTX = Context(currency="GBP")


def rule(params: dict[str, Any], **kw: Any) -> Rule:
    base: dict[str, Any] = {
        "rule_id": "test_rule",
        "version": 1,
        "name": "r",
        "subject_kind": "customer",
        "params": params,
    }
    return Rule.model_validate(base | kw)


def bet(i: int, stake: int, ago: timedelta = timedelta(hours=1), **kw: Any) -> WindowBet:
    return WindowBet(bet_id=f"b{i:03d}", stake_minor=stake, placed_at=NOW - ago, **kw)


def bets(*stakes: int, ago: timedelta = timedelta(hours=1), **kw: Any) -> list[WindowBet]:
    return [bet(i, s, ago - timedelta(seconds=i), **kw) for i, s in enumerate(stakes)]


def fires(r: Rule, bs: list[WindowBet], subject: SubjectRef = C, ctx: Context = CTX) -> bool:
    return bool(r.evaluate(subject, bs, NOW, ctx))


# --- stake in a window ---------------------------------------------------------------------------


def test_stake_window_fires_at_the_threshold_not_one_below() -> None:
    r = rule({"kind": "stake_window", "threshold_minor": 50_000})
    assert not fires(r, bets(30_000, 19_999))
    [alert] = r.evaluate(C, bets(30_000, 20_000), NOW, CTX)
    assert alert.metric.value == 50_000 and alert.metric.threshold == 50_000 and alert.severity == "high"
    assert alert.title == "customer C1 staked £500.00 in 24 h"


@pytest.mark.parametrize(("total", "severity"), [(50_000, "high"), (199_999, "high"), (200_000, "critical")])
def test_default_bands_critical_at_four_times(total: int, severity: str) -> None:
    [alert] = rule({"kind": "stake_window"}).evaluate(C, bets(total), NOW, CTX)
    assert alert.severity == severity


def test_bands_are_parameters() -> None:
    bands = [{"min_ratio": 1, "severity": "medium"}, {"min_ratio": 2, "severity": "critical"}]
    r = rule({"kind": "stake_window"}, bands=bands)
    assert r.evaluate(C, bets(99_999), NOW, CTX)[0].severity == "medium"
    assert r.evaluate(C, bets(100_000), NOW, CTX)[0].severity == "critical"


def test_window_edges() -> None:
    r = rule({"kind": "stake_window", "window_minutes": 60})
    inside = [bet(1, 40_000, timedelta(minutes=59))]
    edge = [bet(2, 10_000, timedelta(minutes=60))]  # exactly at the start: counts
    outside = [bet(3, 10_000, timedelta(minutes=60, seconds=1))]
    later = [WindowBet("later", 10_000, NOW + timedelta(seconds=1))]
    assert not fires(r, inside + outside) and not fires(r, inside + later)
    assert r.evaluate(C, inside + edge, NOW, CTX)[0].evidence.bet_ids == ["b002", "b001"]


def test_a_rule_judges_only_its_subject_kind() -> None:
    r = rule({"kind": "stake_window"})
    assert not fires(r, bets(90_000), W)
    assert fires(rule({"kind": "stake_window"}, subject_kind="writer"), bets(90_000), W)


def test_evidence_and_rule_version() -> None:
    r = rule({"kind": "stake_window"}, version=3)
    [alert] = r.evaluate(C, bets(30_000, 25_000, shop_id="S1", has_slip=True), NOW, CTX)
    assert alert.rule_version == 3 and alert.window_hours == 24 and alert.raised_at == NOW
    assert alert.evidence.bet_ids == ["b000", "b001"] and alert.evidence.slip_ids == ["b000", "b001"]
    assert alert.evidence.shops == ["S1"] and "2 bets totalling £550.00" in alert.detail


def test_alert_id_is_deterministic_per_rule_subject_and_instant() -> None:
    r = rule({"kind": "stake_window"})
    a, b = r.evaluate(C, bets(60_000), NOW, CTX)[0], r.evaluate(C, bets(60_000), NOW, CTX)[0]
    c = r.evaluate(C, bets(60_000), NOW + timedelta(seconds=1), CTX)[0]
    assert a.alert_id == b.alert_id != c.alert_id


# --- bet count (velocity) -------------------------------------------------------------------------


def test_velocity_ten_bets_in_sixty_seconds() -> None:
    r = rule({"kind": "bet_count", "window_seconds": 60, "count": 10})
    burst = [bet(i, 100, timedelta(seconds=59 - i * 6)) for i in range(10)]
    assert fires(r, burst)
    assert not fires(r, burst[1:])  # nine
    spread = [bet(i, 100, timedelta(seconds=61 - i * 6)) for i in range(10)]  # the first is 61 s old
    assert not fires(r, spread)
    assert r.effective_trigger is Trigger.bet  # evaluated on the bet path


def test_bet_count_is_a_count_not_a_stake_sum() -> None:
    r = rule({"kind": "bet_count", "window_seconds": 3600, "count": 3})
    assert not fires(r, bets(1_000_000, 1_000_000))  # two huge bets are two bets
    assert fires(r, bets(1, 1, 1))


# --- loss ------------------------------------------------------------------------------------------


def test_loss_counts_settled_losses_not_stakes() -> None:
    r = rule({"kind": "loss_window", "threshold_minor": 10_000})
    unsettled = bets(50_000, 50_000)
    assert not fires(r, unsettled)  # stakes are not losses
    lost = [bet(1, 6_000, profit_minor=-6_000), bet(2, 4_000, profit_minor=-3_999)]
    assert not fires(r, lost)
    lost[1] = bet(2, 4_000, profit_minor=-4_000)
    [alert] = r.evaluate(C, lost, NOW, CTX)
    assert alert.metric.value == 10_000 and alert.metric.name == "net_loss"
    won_back = [*lost, bet(3, 1_000, profit_minor=500)]
    assert not fires(r, won_back)  # net loss 9,500


# --- structuring -----------------------------------------------------------------------------------


def test_structuring_three_stakes_between_90_and_99_percent() -> None:
    r = rule({"kind": "structuring", "threshold_minor": 50_000, "min_count": 3})
    assert fires(r, bets(45_000, 47_500, 49_500))  # 90 %, 95 %, 99 % exactly
    assert not fires(r, bets(45_000, 47_500, 44_999))  # one just under 90 %
    assert not fires(r, bets(45_000, 47_500, 49_501))  # one just over 99 %
    assert not fires(r, bets(45_000, 47_500))


def test_structuring_across_shops() -> None:
    r = rule({"kind": "structuring", "min_shops": 2})
    one_shop = bets(46_000, 47_000, 48_000, shop_id="S1")
    assert not fires(r, one_shop)
    two = [*one_shop[:2], bet(9, 48_000, shop_id="S2")]
    [alert] = r.evaluate(C, two, NOW, CTX)
    assert alert.evidence.shops == ["S1", "S2"] and "in 2 shops" in alert.title


# --- sudden change ---------------------------------------------------------------------------------


def test_sudden_change_against_the_subjects_own_average() -> None:
    r = rule({"kind": "sudden_change", "multiple": 10, "min_history_bets": 5, "min_stake_minor": 5_000})
    usual = [bet(i, 1_000, timedelta(days=10 - i)) for i in range(5)]
    assert fires(r, [*usual, bet(9, 10_000, timedelta(minutes=1))])  # exactly 10x
    assert not fires(r, [*usual, bet(9, 9_999, timedelta(minutes=1))])
    assert not fires(r, [*usual[1:], bet(9, 50_000, timedelta(minutes=1))])  # four bets of history
    small = [bet(i, 100, timedelta(days=10 - i)) for i in range(5)]
    assert not fires(r, [*small, bet(9, 4_999, timedelta(minutes=1))])  # 50x, but under the minimum stake


# --- overnight --------------------------------------------------------------------------------------


def test_overnight_more_than_three_between_midnight_and_seven_uk_time() -> None:
    r = rule({"kind": "overnight", "max_bets": 3})
    night = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 02:00 BST
    at = night.replace(hour=12)

    def evaluate(times: list[datetime]) -> bool:
        return bool(r.evaluate(C, [WindowBet(f"n{i}", 100, t) for i, t in enumerate(times)], at, CTX))

    assert not evaluate([night + timedelta(minutes=i) for i in range(3)])
    assert evaluate([night + timedelta(minutes=i) for i in range(4)])
    # 23:30 UTC in July is 00:30 BST: night; 06:30 UTC is 07:30 BST: not night.
    edges = [datetime(2026, 6, 30, 23, 30, tzinfo=UTC), datetime(2026, 7, 1, 6, 30, tzinfo=UTC)]
    assert not evaluate([night, night, *edges])
    assert evaluate([night, night, night, edges[0]])


# --- harm screener ----------------------------------------------------------------------------------


def test_harm_screens_each_score_a_point() -> None:
    p = rule({"kind": "harm_screen"}).params
    assert harm_points(p, bets(100, 100)) == []  # type: ignore[arg-type]
    many = [bet(i, 100, timedelta(minutes=20 * (11 - i))) for i in range(11)]  # 11 bets over 3h20 in one session
    points = harm_points(p, many)  # type: ignore[arg-type]
    assert "11 bets" in points and any("session" in x for x in points)
    rising = [bet(i, 100 * (i + 1), timedelta(hours=10 - i)) for i in range(4)]
    assert harm_points(p, rising) == ["rising stakes"]  # type: ignore[arg-type]
    chasing = [bet(i, 100, timedelta(hours=10 - i), odds=o) for i, o in enumerate([2, 2, 2, 2, 2, 2, 2, 9, 9, 9])]
    assert "chasing longer odds" in harm_points(p, chasing)  # type: ignore[arg-type]
    not_chasing = [bet(i, 100, timedelta(hours=10 - i), odds=o) for i, o in enumerate([2] * 7 + [6, 6, 6])]
    assert "chasing longer odds" not in harm_points(p, not_chasing)  # type: ignore[arg-type]


def test_harm_screener_fires_at_two_points() -> None:
    r = rule({"kind": "harm_screen"})
    one_point = [bet(1, 100_001)]  # over £1,000 staked only
    assert not fires(r, one_point)
    two = [bet(1, 50_001, timedelta(hours=5)), bet(2, 50_001, timedelta(hours=4)),
           bet(3, 60_000, timedelta(hours=3)), bet(4, 60_000, timedelta(hours=2))]  # fmt: skip
    [alert] = r.evaluate(C, two, NOW, CTX)
    assert alert.metric.value == 2 and "rising stakes" in alert.detail


# --- bet runs, beating the SP, multi-account ---------------------------------------------------------


def test_bet_run_needs_enough_different_customers() -> None:
    r = rule({"kind": "bet_run", "window_minutes": 60, "min_bettors": 3})
    sel = ("14:30 ascot|win|sea bird",)
    two = [bet(1, 500, customer_id="A", selections=sel), bet(2, 500, customer_id="B", selections=sel),
           bet(3, 500, customer_id="B", selections=sel)]  # fmt: skip
    assert not fires(r, two)
    [alert] = r.evaluate(C, [*two, bet(4, 500, customer_id="C", selections=sel)], NOW, CTX)
    assert alert.subject.kind is SubjectKind.selection and "sea bird" in alert.title
    assert alert.metric.value == 3


def test_beats_sp_more_than_five_selections_half_above() -> None:
    r = rule({"kind": "beats_sp", "min_selections": 6, "min_share": 0.5})
    assert not fires(r, [bet(1, 100, sp_compared=5, sp_beaten=5)])
    assert fires(r, [bet(1, 100, sp_compared=4, sp_beaten=2), bet(2, 100, sp_compared=2, sp_beaten=1)])
    assert not fires(r, [bet(1, 100, sp_compared=6, sp_beaten=2)])


def test_multi_account_counts_linked_customers() -> None:
    r = rule({"kind": "multi_account", "min_customers": 2}, subject_kind="writer")
    assert not fires(r, bets(100), W, Context(linked_customers=["C1"]))
    [alert] = r.evaluate(W, bets(100), NOW, Context(linked_customers=["C1", "C2", "C1"]))
    assert alert.metric.value == 2 and "C1, C2" in alert.detail


# --- definitions ------------------------------------------------------------------------------------


def test_parameters_are_validated_per_kind() -> None:
    bad: list[dict[str, Any]] = [
        {"kind": "stake_window", "threshold_minor": 0},
        {"kind": "bet_count", "count": 1},
        {"kind": "structuring", "low_pct": 99, "high_pct": 90},
        {"kind": "sudden_change", "multiple": 1},
        {"kind": "overnight", "start_hour": 24},
        {"kind": "nope"},
        {"kind": "stake_window", "colour": "red"},
    ]
    for params in bad:
        with pytest.raises(ValueError):
            rule(params)
    with pytest.raises(ValueError, match="subject_kind"):
        rule({"kind": "multi_account"}, subject_kind="customer")
    with pytest.raises(ValueError, match="bands"):
        rule(
            {"kind": "stake_window"}, bands=[{"min_ratio": 2, "severity": "high"}, {"min_ratio": 1, "severity": "low"}]
        )


def test_cooldown_and_trigger_defaults() -> None:
    assert rule({"kind": "stake_window"}).cooldown == timedelta(hours=24)
    assert rule({"kind": "bet_count"}).cooldown == timedelta(hours=1)  # at least an hour
    assert rule({"kind": "stake_window"}, cooldown_minutes=30).cooldown == timedelta(minutes=30)
    assert rule({"kind": "stake_window"}).effective_trigger is Trigger.schedule
    assert rule({"kind": "stake_window"}, trigger="bet").effective_trigger is Trigger.bet


def test_in_cooldown_boundaries() -> None:
    cd = timedelta(hours=24)
    assert in_cooldown(None, NOW, cd) is False
    assert in_cooldown(NOW - timedelta(hours=23, minutes=59), NOW, cd) is True
    assert in_cooldown(NOW - cd, NOW, cd) is False  # exactly one cooldown later: may alert again


def test_shadow_rules_mark_their_alerts() -> None:
    [alert] = rule({"kind": "stake_window"}, mode="shadow").evaluate(C, bets(60_000), NOW, CTX)
    assert alert.shadow is True


def test_defaults_seeded() -> None:
    seeded = {r.rule_id: r for r in default_rules(24, 50_000)}
    assert {r.kind for r in seeded.values()} == {
        "stake_window", "bet_count", "structuring", "harm_screen", "client_category",
    }  # fmt: skip
    assert {r.subject_kind for r in seeded.values() if r.kind == "stake_window"} == {
        SubjectKind.customer,
        SubjectKind.writer,
    }
    velocity = seeded["velocity_customer"].params
    assert velocity.count == 10 and velocity.window_seconds == 60  # type: ignore[union-attr]
    assert all(r.enabled and r.mode.value == "active" for r in seeded.values())
    spec = seeded["structuring_customer"].model_dump(exclude={"rule_id", "version", "updated_by", "updated_at"})
    assert isinstance(RuleSpec.model_validate(spec), RuleSpec)
    assert Band(min_ratio=1, severity="high") in seeded["stake_window_customer"].bands


def test_client_category_fires_on_any_bet_of_a_self_excluded_customer() -> None:
    r = rule(
        {"kind": "client_category", "categories": ["self_excluded"]}, bands=[{"min_ratio": 1, "severity": "critical"}]
    )
    assert r.effective_trigger is Trigger.bet
    assert not fires(r, bets(100), ctx=Context(category="vip"))
    [alert] = r.evaluate(C, bets(100), NOW, Context(category="self_excluded"))
    assert alert.severity == "critical" and "self excluded" in alert.title


def test_a_rule_can_target_a_segment() -> None:
    r = rule({"kind": "stake_window"}, segment=3)
    assert not fires(r, bets(90_000), ctx=Context(segment=2))
    assert not fires(r, bets(90_000), ctx=Context(segment=None))
    assert fires(r, bets(90_000), ctx=Context(segment=3))
