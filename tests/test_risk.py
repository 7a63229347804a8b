"""Tests for the bet risk features and the ONNX scorer (chalicelib.risk)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from chalicelib.domain.bets import BetIn, History
from chalicelib.risk import features, scorer
from chalicelib.risk.features import FEATURE_NAMES, N_FEATURES, vectorize

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "chalicelib" / "models"


def make_bet(**kw: object) -> BetIn:
    base: dict[str, object] = {
        "customer_id": "cust-1",
        "channel": "online",
        "stake": "5.00",
        "bet_type": "single",
        "selections": [{"event": "14:30 Cheltenham", "selection": "Desert Orchid", "price": "5/2"}],
        "sport": "horse_racing",
        "placed_at": datetime(2025, 3, 1, 19, 30, tzinfo=UTC),
        "device_id": "dev-1",
    }
    base.update(kw)
    return BetIn.model_validate(base)


def small_recreational() -> tuple[BetIn, History]:
    hist = History(
        bets_24h=1,
        stake_24h_minor=500,
        bets_30d=12,
        stake_30d_minor=6_000,
        max_stake_30d_minor=1_000,
        days_active_30d=8,
        seconds_since_last_bet=20_000,
    )
    return make_bet(), hist


def laundering_pattern() -> tuple[BetIn, History]:
    bet = make_bet(
        customer_id=None,
        channel="retail",
        shop_id="shop-0001",
        stake="5000.00",
        selections=[{"event": "Arsenal v Spurs", "market": "match odds", "selection": "Arsenal", "price": "1/3"}],
        sport="football",
        placed_at=datetime(2025, 3, 1, 3, 5, tzinfo=UTC),
        device_id=None,
    )
    hist = History(
        bets_24h=6,
        stake_24h_minor=2_000_000,
        bets_30d=9,
        stake_30d_minor=2_600_000,
        max_stake_30d_minor=500_000,
        days_active_30d=3,
        seconds_since_last_bet=1_800,
        distinct_shops_24h=4,
    )
    return bet, hist


# -- features ------------------------------------------------------------------------------------
def test_feature_vector_shape_order_and_finite() -> None:
    bet, hist = small_recreational()
    v = vectorize(bet, hist)
    assert v.dtype == np.float32
    assert v.shape == (N_FEATURES,) == (len(FEATURE_NAMES),)
    assert len(set(FEATURE_NAMES)) == N_FEATURES
    assert np.isfinite(v).all()
    f = dict(zip(FEATURE_NAMES, v.tolist(), strict=True))
    assert f["log_stake"] == pytest.approx(np.log1p(5.0), rel=1e-6)
    assert f["min_odds"] == pytest.approx(3.5)
    assert f["implied_prob"] == pytest.approx(1 / 3.5, rel=1e-6)
    assert f["channel_online"] == 1.0 and f["channel_retail"] == 0.0
    assert f["group_single"] == 1.0 and f["anonymous"] == 0.0
    assert f["bets_30d"] == 12.0 and f["no_previous_bet"] == 0.0
    # 12 bets averaging £5 -> this £5 bet is exactly average
    assert f["log_stake_vs_avg_30d"] == pytest.approx(0.0, abs=1e-6)
    # 19:30 UTC
    angle = 2 * np.pi * 19.5 / 24
    assert f["hour_sin"] == pytest.approx(np.sin(angle), abs=1e-6)
    assert f["hour_cos"] == pytest.approx(np.cos(angle), abs=1e-6)


def test_empty_history_and_extremes_are_finite() -> None:
    bet = make_bet(
        stake="1000000",
        bet_type="accumulator",
        selections=[{"event": f"e{i}", "selection": "x", "price": "1000"} for i in range(20)],
        device_id=None,
    )
    v = vectorize(bet, History())
    assert np.isfinite(v).all()
    f = dict(zip(FEATURE_NAMES, v.tolist(), strict=True))
    assert f["no_previous_bet"] == 1.0 and f["log_secs_since_last"] == 0.0
    assert f["no_device"] == 1.0
    assert f["log_combined_odds"] == pytest.approx(np.log(features.MAX_COMBINED_ODDS), rel=1e-5)


def test_sp_uses_neutral_default_and_flag() -> None:
    sp = make_bet(selections=[{"event": "e", "selection": "s", "price": "SP"}])
    priced = make_bet(selections=[{"event": "e", "selection": "s", "price": "3/1"}])
    fs = dict(zip(FEATURE_NAMES, vectorize(sp, History()).tolist(), strict=True))
    fp = dict(zip(FEATURE_NAMES, vectorize(priced, History()).tolist(), strict=True))
    assert fs["is_sp"] == 1.0 and fp["is_sp"] == 0.0
    assert fs["min_odds"] == pytest.approx(features.SP_DEFAULT_ODDS)
    assert fs["log_combined_odds"] == pytest.approx(np.log(features.SP_DEFAULT_ODDS), rel=1e-6)
    # a multiple with one SP leg: the priced legs still count
    mixed = make_bet(
        bet_type="double",
        selections=[
            {"event": "a", "selection": "x", "price": "SP"},
            {"event": "b", "selection": "y", "price": "evs"},
        ],
    )
    fm = dict(zip(FEATURE_NAMES, vectorize(mixed, History()).tolist(), strict=True))
    assert fm["is_sp"] == 1.0
    assert fm["min_odds"] == pytest.approx(2.0)
    assert fm["log_combined_odds"] == pytest.approx(np.log(2.0 * features.SP_DEFAULT_ODDS), rel=1e-6)


def test_full_cover_lines_and_each_way() -> None:
    bet = make_bet(
        stake="30.00",
        bet_type="lucky15",
        each_way=True,
        selections=[{"event": f"e{i}", "selection": "x", "price": "4/1"} for i in range(4)],
    )
    f = dict(zip(FEATURE_NAMES, vectorize(bet, History()).tolist(), strict=True))
    assert f["lines"] == 30.0
    assert f["log_unit_stake"] == pytest.approx(np.log1p(1.0), rel=1e-6)
    assert f["group_full_cover"] == 1.0 and f["each_way"] == 1.0


# -- scorer --------------------------------------------------------------------------------------
def test_high_risk_pattern_scores_above_recreational() -> None:
    risky = scorer.assess(*laundering_pattern())
    calm = scorer.assess(*small_recreational())
    assert scorer.model_loaded()
    assert risky.score > calm.score
    assert risky.level in ("high", "critical")
    assert calm.level == "low"
    assert calm.recommendation == "accept"
    text = " | ".join(risky.signals)
    assert "anonymous retail stake £5,000.00" in text
    assert "£20,000.00 staked in the previous 24 h" in text
    assert "bet struck at 03:05 UTC" in text
    assert "odds-on price (1.33) with a large stake" in text


def test_score_range_level_and_version_consistent() -> None:
    meta = json.loads((MODELS / "risk.json").read_text())
    t = meta["thresholds"]
    cases = [small_recreational(), laundering_pattern()]
    cases += [
        (make_bet(stake=f"{s}.00", placed_at=datetime(2025, 3, 1, h, tzinfo=UTC)), History())
        for s in (1, 50, 450, 2000)
        for h in (2, 14)
    ]
    for bet, hist in cases:
        r = scorer.assess(bet, hist)
        assert 0 <= r.score <= 100
        expected = (
            "critical"
            if r.score >= t["critical"]
            else "high"
            if r.score >= t["high"]
            else "medium"
            if r.score >= t["medium"]
            else "low"
        )
        assert r.level == expected
        assert r.recommendation == scorer.RECOMMENDATIONS[r.level]
        assert r.model_version == meta["model_version"]
        p = float(scorer.probability(vectorize(bet, hist))[0])
        assert r.score == round(100 * p)


def test_signals_are_deterministic() -> None:
    bet, hist = laundering_pattern()
    assert scorer.signals(bet, hist) == scorer.signals(bet, hist)
    assert scorer.signals(*small_recreational()) == []


def test_model_files_agree_with_features() -> None:
    meta = json.loads((MODELS / "risk.json").read_text())
    assert meta["n_features"] == N_FEATURES
    assert meta["feature_names"] == FEATURE_NAMES
    assert (MODELS / "risk.onnx").stat().st_size < 1_200_000
    import onnxruntime as ort

    sess = ort.InferenceSession(str(MODELS / "risk.onnx"), providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    assert inp.name == meta["input_name"]
    assert inp.type == "tensor(float)"
    assert inp.shape[-1] == N_FEATURES
    m = meta["metrics"]["test"]
    assert 0.5 < m["roc_auc"] <= 1.0


def test_scorer_does_not_import_training_libraries() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from chalicelib.risk import scorer\n"
        "from chalicelib.domain.bets import BetIn, History\n"
        "bet = BetIn(channel='online', stake='10', bet_type='single', sport='football',\n"
        "            selections=[{'event': 'a v b', 'selection': 'a', 'price': '2/1'}],\n"
        "            placed_at=datetime(2025, 1, 1, tzinfo=UTC))\n"
        "r = scorer.assess(bet, History())\n"
        "assert scorer.model_loaded()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'skl2onnx', 'scipy', 'cv2', 'onnx'})\n"
        "print(r.score, bad)\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
