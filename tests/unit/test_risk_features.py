"""Customer-relative risk features, history, segments and signals (pure: no AWS, no moto)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from chalicelib.domain.bets import Bet, BetIn, RiskAssessment, Selection
from chalicelib.domain.risk_history import MAX_PAST_BETS, PastBet, StaffWhitelist, SubjectHistory
from chalicelib.risk import explain, segments
from chalicelib.risk.features import FEATURE_NAMES, INDEX, N_FEATURES, past_bet, summarise, vectorize

T0 = datetime(2025, 3, 1, 19, 30, tzinfo=UTC)


def make_bet(**kw: Any) -> BetIn:
    base: dict[str, Any] = {
        "bet_id": "b-now",
        "customer_id": "cust-1",
        "channel": "online",
        "stake": "5.00",
        "bet_type": "single",
        "selections": [{"event": "14:30 Cheltenham", "selection": "Desert Orchid", "price": "5/2"}],
        "sport": "horse_racing",
        "placed_at": T0,
        "device_id": "dev-1",
    }
    base.update(kw)
    return BetIn.model_validate(base)


def regular_history(n: int = 20, stake: str = "10.00", every: timedelta = timedelta(hours=20)) -> SubjectHistory:
    bets = [past_bet(make_bet(bet_id=f"p{i}", stake=stake, placed_at=T0 - every * (n - i)), f"p{i}") for i in range(n)]
    return SubjectHistory(bets=bets, first_seen_at=T0 - timedelta(days=200))


def feats(bet: BetIn, hist: SubjectHistory) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, vectorize(bet, hist).tolist(), strict=True))


def stored(bet: BetIn, bet_id: str) -> dict[str, Any]:
    """The stored ``schemas.Bet`` of a scored bet, as the bet path dumps it."""
    return Bet(
        bet_id=bet_id,
        customer_id=bet.customer_id,
        shop_id=bet.shop_id,
        channel=bet.channel,
        stake_minor=bet.stake_minor,
        currency=bet.currency,
        bet_type=bet.bet_type,
        each_way=bet.each_way,
        lines=bet.lines,
        selections=[
            Selection(
                event=s.event,
                market=s.market,
                selection=s.selection,
                price=str(s.price),
                decimal_odds=None if (d := s.decimal_odds) is None else float(d),
            )
            for s in bet.selections
        ],
        sport=bet.sport,
        placed_at=bet.placed_at,
        received_at=bet.placed_at,
        device_id=bet.device_id,
        location=bet.location,
        potential_return_minor=None,
        risk=RiskAssessment(score=1, level="low", signals=[], recommendation="accept", model_version="x"),
    ).model_dump(mode="json")


# -- history --------------------------------------------------------------------------------------
def test_past_bet_from_stored_bet_equals_training_form_and_round_trips() -> None:
    bet = make_bet(
        bet_type="double",
        each_way=True,
        selections=[
            {"event": "A v B", "market": "match odds", "selection": "A", "price": "evs"},
            {"event": "C v D", "selection": "D", "price": "SP"},
        ],
        location={"lat": 51.5, "lon": -0.1},
    )
    from_store = PastBet.from_bet(stored(bet, "b-1"))
    assert from_store == past_bet(bet, "b-1")
    assert from_store.legs[1].odds is None and from_store.legs[0].odds == 2.0
    assert PastBet(**from_store.to_item()) == from_store
    assert len(str(from_store.to_item())) < 600  # compact: one item per bet per subject


def test_subject_history_of_keeps_30_days_sorted_and_capped() -> None:
    old = past_bet(make_bet(bet_id="old", placed_at=T0 - timedelta(days=31)), "old")
    many = [past_bet(make_bet(placed_at=T0 - timedelta(minutes=i + 1)), f"m{i}") for i in range(MAX_PAST_BETS + 20)]
    h = SubjectHistory.of([old, *many], T0)
    assert len(h.bets) == MAX_PAST_BETS
    assert [b.placed_at for b in h.bets] == sorted(b.placed_at for b in h.bets)
    assert h.bets[-1].bet_id == "m0" and "old" not in {b.bet_id for b in h.bets}


# -- features -------------------------------------------------------------------------------------
def test_vector_shape_finite_and_every_feature_in_one_signal_group() -> None:
    v = vectorize(make_bet(), regular_history())
    assert v.dtype == np.float32 and v.shape == (N_FEATURES,) and np.isfinite(v).all()
    grouped = [f for fs in explain.GROUPS.values() for f in fs]
    assert sorted(grouped) == sorted(FEATURE_NAMES) and len(grouped) == len(set(grouped))


def test_empty_history_anonymous_and_extremes_are_finite() -> None:
    bet = make_bet(
        customer_id=None,
        channel="retail",
        shop_id="s1",
        device_id=None,
        stake="1000000",
        bet_type="accumulator",
        selections=[{"event": f"e{i}", "selection": "x", "price": "1000"} for i in range(20)],
    )
    f = feats(bet, SubjectHistory())
    assert all(math.isfinite(x) for x in f.values())
    assert f["no_history"] == 1.0 and f["anonymous"] == 1.0 and f["stake_z_own"] == 0.0
    assert f["no_device"] == 0.0  # retail slips carry no device: not a signal


def test_stake_relative_to_own_history() -> None:
    hist = regular_history(stake="10.00")
    calm = feats(make_bet(stake="10.00"), hist)
    spike = feats(make_bet(stake="450.00"), hist)
    assert calm["log_stake_vs_mean_own"] == pytest.approx(0.0, abs=1e-6)
    assert calm["within_history"] == 1.0 and spike["within_history"] == 0.0
    assert spike["log_stake_vs_mean_own"] == pytest.approx(math.log(45), rel=1e-5)
    assert spike["stake_z_own"] > 5
    assert spike["gap_vs_usual"] == pytest.approx(calm["gap_vs_usual"])


def test_velocity_device_shop_channel_and_location() -> None:
    hist = regular_history()
    burst = [past_bet(make_bet(placed_at=T0 - timedelta(seconds=30 * (i + 1))), f"q{i}") for i in range(5)]
    h2 = SubjectHistory(bets=[*hist.bets, *sorted(burst, key=lambda b: b.placed_at)])
    f = feats(make_bet(device_id="dev-new", channel="sms"), h2)
    assert f["bets_10m"] == 5 and f["bets_1h"] == 5
    assert f["new_device"] == 1.0 and f["new_channel"] == 1.0
    located = [past_bet(make_bet(placed_at=T0 - timedelta(minutes=30), location={"lat": 51.5, "lon": -0.12}), "loc")]
    g = feats(make_bet(location={"lat": 55.95, "lon": -3.19}), SubjectHistory(bets=located))
    assert 500 < math.expm1(g["log_km_from_last"]) < 560  # London -> Edinburgh
    assert math.expm1(g["log_speed_kmh"]) > 900


def test_both_sides_of_a_market_within_the_hour() -> None:
    sel = {"event": "Arsenal v Spurs", "market": "match odds"}
    first = past_bet(
        make_bet(selections=[{**sel, "selection": "Arsenal", "price": "2.0"}], placed_at=T0 - timedelta(minutes=20))
    )
    other = make_bet(selections=[{**sel, "selection": "Spurs", "price": "2.0"}])
    same = make_bet(selections=[{**sel, "selection": "Arsenal", "price": "2.0"}])
    assert feats(other, SubjectHistory(bets=[first]))["both_sides_1h"] == 1.0
    assert feats(same, SubjectHistory(bets=[first]))["both_sides_1h"] == 0.0
    late = first.model_copy(update={"placed_at": T0 - timedelta(hours=2)})
    assert feats(other, SubjectHistory(bets=[late]))["both_sides_1h"] == 0.0


def test_odd_amounts_on_new_accounts_and_rising_chain() -> None:
    new = SubjectHistory(bets=[], first_seen_at=T0 - timedelta(days=2))
    assert feats(make_bet(stake="23.47"), new)["odd_stake_new_account"] == 1.0
    assert feats(make_bet(stake="25.00"), new)["odd_stake_new_account"] == 0.0
    assert feats(make_bet(stake="23.47"), regular_history())["odd_stake_new_account"] == 0.0
    chain = [
        past_bet(make_bet(stake=s, placed_at=T0 - timedelta(minutes=m)), f"c{m}")
        for s, m in (("5.00", 50), ("10.00", 15), ("20.00", 10), ("40.00", 5))
    ]
    assert feats(make_bet(stake="80.00"), SubjectHistory(bets=chain))["rising_chain"] == 3  # the 35 min gap ends it


def test_no_hour_of_day_feature_only_unusual_hour() -> None:
    assert not {"hour_sin", "hour_cos"} & set(FEATURE_NAMES)
    night_owl = regular_history(every=timedelta(days=1))  # always 19:30
    at_night = feats(make_bet(placed_at=T0.replace(hour=3)), night_owl)
    usual = feats(make_bet(), night_owl)
    assert at_night["hour_unusual"] == 1.0 and usual["hour_unusual"] == 0.0


def test_no_training_serving_skew_for_the_same_bets() -> None:
    """Training builds histories from BetIn (``past_bet``); serving reads stored Bets
    (``PastBet.from_bet``). The same bets must give the same vectors."""
    from training.risk.simulate import simulate

    rows = simulate(seed=3, n_customers=25)
    by_id = {r.bet.bet_id: r for r in rows}
    checked = 0
    for r in rows[::7]:
        served = SubjectHistory(
            bets=[PastBet.from_bet(stored(by_id[b.bet_id].bet, b.bet_id)) for b in r.history.bets],
            first_seen_at=r.history.first_seen_at,
        )
        assert np.array_equal(vectorize(r.bet, r.history), vectorize(r.bet, served)), r.bet.bet_id
        checked += 1
    assert checked > 20


# -- segments -------------------------------------------------------------------------------------
def test_segment_follows_the_history() -> None:
    m = segments.model()
    assert 3 <= m.k <= 10 and len(m.segments) == m.k
    assert segments.segment_of(SubjectHistory()) is None
    seg = segments.segment_of(regular_history(n=m.min_bets))
    assert seg is not None and 0 <= seg < m.k
    d = segments.describe(seg)
    assert d is not None and d["name"] and d["description"]
    big = regular_history(n=30, stake="800.00")
    assert segments.segment_of(big) != segments.segment_of(regular_history(n=30, stake="2.00"))
    assert segments.matches(None, None) and segments.matches([seg], seg) and not segments.matches([seg], None)
    assert {c["segment"] for c in segments.catalogue()} == set(range(m.k))


def test_summary_without_bet_is_the_profile() -> None:
    s = summarise(None, regular_history())
    assert s.n == 20 and s.share_online == 1.0 and s.mean_stake == 1000
    assert INDEX["stake_z_own"] >= 0


def test_staff_whitelist_records_give_whitelisted_until() -> None:
    def entry(days: int, created: int = -1) -> StaffWhitelist:
        return StaffWhitelist(
            subject="CUST#c1", until=T0 + timedelta(days=days), by="staff:ana", reason="known high-roller",
            created_at=T0 + timedelta(days=created),
        )  # fmt: skip

    assert StaffWhitelist.current_until([], T0) is None
    assert StaffWhitelist.current_until([entry(-2, -5)], T0) is None  # expired
    assert StaffWhitelist.current_until([entry(3), entry(7)], T0) == T0 + timedelta(days=7)
    assert StaffWhitelist.current_until([entry(7, created=1)], T0) is None  # not yet decided
