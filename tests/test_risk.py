"""Tests for the bet risk scorer (chalicelib.risk.scorer) and its artefacts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chalicelib.domain.bets import BetIn, History
from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.risk import scorer
from chalicelib.risk.features import FEATURE_NAMES, N_FEATURES, past_bet

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "chalicelib" / "models"
T0 = datetime(2025, 3, 1, 19, 30, tzinfo=UTC)


def make_bet(**kw: Any) -> BetIn:
    base: dict[str, Any] = {
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


def history(n: int = 25, stake: str = "12.00", days: float = 1.1, **kw: Any) -> SubjectHistory:
    bets = [past_bet(make_bet(stake=stake, placed_at=T0 - timedelta(days=days * (n - i))), f"h{i}") for i in range(n)]
    return SubjectHistory(bets=bets, first_seen_at=T0 - timedelta(days=400), **kw)


def test_calm_bet_is_low_without_signals() -> None:
    r = scorer.assess(make_bet(stake="12.00"), history())
    assert r.level == "low" and r.recommendation == "accept"
    assert r.within_history and r.segment is not None and r.segment_name
    assert all(s.code == "within_history" for s in r.reasons)


def test_sudden_change_in_a_quiet_account_is_flagged_and_explained() -> None:
    quiet = history(n=8, stake="12.00", days=3.5)
    r = scorer.assess(make_bet(stake="450.00"), quiet)
    assert r.level in ("high", "critical"), r
    assert not r.within_history
    assert r.signals and r.signals == [s.text for s in r.reasons]
    assert any("£450.00" in t for t in r.signals), r.signals


def test_every_bet_at_medium_or_above_has_a_reason() -> None:
    from training.risk.simulate_b import simulate

    m = scorer.load()
    seen = 0
    for row in simulate(seed=5, n_customers=60):
        r = scorer.assess(row.bet, row.history)
        if r.level != "low":
            seen += 1
            codes = [s.code for s in r.reasons if s.code not in ("within_history", "staff_whitelist")]
            assert codes, r
            assert not set(codes) & m.suppressed
    assert seen > 10


def test_history_whitelist_damps_the_usual_big_stake() -> None:
    roller = history(n=30, stake="2000.00")
    big = make_bet(stake="3000.00", selections=[{"event": "e", "selection": "s", "price": "1/3"}])
    usual = scorer.score(big, roller)
    assert usual.within_history and usual.within_delta <= 0
    strict = scorer.score(big, roller, policy=scorer.WhitelistPolicy(ratio=1.2))
    assert not strict.within_history and strict.log_odds >= usual.log_odds
    too_short = scorer.score(big, history(n=3, stake="2000.00"))
    assert not too_short.within_history  # minimum history


def test_staff_whitelist_for_a_period() -> None:
    bet = make_bet(stake="450.00")
    hist = history(n=8, stake="12.00", days=3.5)
    plain = scorer.assess(bet, hist)
    wl = hist.model_copy(update={"whitelisted_until": T0 + timedelta(days=7)})
    damped = scorer.assess(bet, wl)
    assert damped.whitelisted and damped.score < plain.score
    assert any(s.code == "staff_whitelist" for s in damped.reasons)
    expired = hist.model_copy(update={"whitelisted_until": T0 - timedelta(minutes=1)})
    assert scorer.assess(bet, expired).score == plain.score


def test_anonymous_night_bet_is_not_flagged_for_being_anonymous_at_night() -> None:
    bet = make_bet(
        customer_id=None, channel="retail", shop_id="shop-1", device_id=None, stake="10.00",
        placed_at=T0.replace(hour=2),
    )  # fmt: skip
    assert scorer.assess(bet, SubjectHistory()).level == "low"


def test_score_level_probability_and_version_consistent() -> None:
    meta = json.loads((MODELS / "risk.json").read_text())
    t = meta["thresholds"]
    for stake in ("1.00", "50.00", "450.00", "4999.00"):
        for hist in (SubjectHistory(), history()):
            r = scorer.assess(make_bet(stake=stake), hist)
            assert 0 <= r.score <= 100 and r.probability is not None
            assert r.score == round(100 * r.probability)
            want = next((lv for lv in ("critical", "high", "medium") if r.score >= t[lv]), "low")
            assert r.level == want and r.recommendation == scorer.RECOMMENDATIONS[r.level]
            assert r.model_version == meta["model_version"]


def test_legacy_aggregate_history_is_accepted() -> None:
    r = scorer.assess(make_bet(), History(bets_30d=3, stake_30d_minor=1500))
    assert r == scorer.assess(make_bet(), SubjectHistory())


def test_calibration_is_monotone_and_probability_matches_scorer() -> None:
    m = scorer.load()
    assert np.all(np.diff(m.cal_x) >= 0) and np.all(np.diff(m.cal_y) >= 0)
    bet, hist = make_bet(stake="450.00"), history(n=8, days=3.5)
    sc = scorer.score(bet, hist)
    assert float(scorer.probability(sc.x)[0]) == pytest.approx(sc.probability)


def test_model_files_agree_with_features() -> None:
    meta = json.loads((MODELS / "risk.json").read_text())
    assert meta["n_features"] == N_FEATURES and meta["feature_names"] == FEATURE_NAMES
    assert len(meta["reference"]) == N_FEATURES
    assert (MODELS / "risk.onnx").stat().st_size < 1_500_000
    import onnxruntime as ort

    sess = ort.InferenceSession(str(MODELS / "risk.onnx"), providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    assert inp.name == meta["input_name"] and inp.shape[-1] == N_FEATURES
    for part in ("time_split", "unseen_customers"):
        assert 0.5 < meta["metrics"][part]["roc_auc"] <= 1.0
    assert any(k.startswith("simulator_b") for k in meta["metrics"])


def test_scorer_does_not_import_training_libraries() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from chalicelib.risk import scorer\n"
        "from chalicelib.domain.risk_history import SubjectHistory\n"
        "from chalicelib.domain.bets import BetIn\n"
        "bet = BetIn(channel='online', stake='10', bet_type='single', sport='football',\n"
        "            selections=[{'event': 'a v b', 'selection': 'a', 'price': '2/1'}],\n"
        "            placed_at=datetime(2025, 1, 1, tzinfo=UTC))\n"
        "r = scorer.assess(bet, SubjectHistory())\n"
        "assert scorer.model_loaded()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'skl2onnx', 'scipy', 'cv2', 'onnx'})\n"
        "print(r.score, bad)\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
