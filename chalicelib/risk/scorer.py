"""Real-time bet risk scoring with the ONNX model in ``chalicelib/models/risk.onnx``.

The onnxruntime session is created once per process, lazily and thread-safely, on the first
``assess`` (or an explicit ``load()``). Only numpy and onnxruntime are imported here: no sklearn.

The score is ``round(100 * P(risky))`` from the model; the level comes from the thresholds in
``risk.json``. The ``signals`` are plain-language reasons computed by fixed rules from the bet and
the history; they explain what is notable about the bet, they are not the model's internals.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort

from chalicelib.domain.bets import BetIn, BetType, Channel, History, RiskAssessment
from chalicelib.domain.money import format_minor
from chalicelib.risk.features import (
    FEATURE_NAMES,
    N_FEATURES,
    bet_group,
    just_below_threshold,
    price_summary,
    vectorize,
)

MODEL_DIR = Path(__file__).parent.parent / "models"
MODEL_PATH = MODEL_DIR / "risk.onnx"
META_PATH = MODEL_DIR / "risk.json"

Level = Literal["low", "medium", "high", "critical"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high", "critical")
RECOMMENDATIONS: dict[str, str] = {
    "low": "accept",
    "medium": "accept and monitor",
    "high": "refer to trader before settlement",
    "critical": "hold and refer to compliance",
}

# Signal rules (amounts in minor units).
LARGE_STAKE_MINOR = 50_000  # £500
ANON_RETAIL_STAKE_MINOR = 25_000  # £250
STAKE_24H_MINOR = 100_000  # £1,000 already staked in the previous 24 h
STAKE_VS_AVG = 5.0
MIN_BETS_FOR_AVG = 3
MANY_BETS_24H = 6
MANY_SHOPS_24H = 3
NIGHT_HOURS = range(0, 6)
QUICK_REPEAT_S = 120
SMALL_LINE_MINOR = 50  # 50p a line
MANY_LINES = 15
SHORT_EACH_WAY_ODDS = 3.0
MAX_SIGNALS = 6

_lock = threading.Lock()
_session: ort.InferenceSession | None = None
_meta: dict[str, Any] | None = None
_input_name = "features"
_prob_output: str | None = None


def load() -> None:
    """Create the ONNX session and read the metadata (idempotent, thread-safe)."""
    global _session, _meta, _input_name, _prob_output
    if _session is not None:
        return
    with _lock:
        if _session is not None:
            return
        meta = json.loads(META_PATH.read_text())
        if meta["feature_names"] != FEATURE_NAMES:
            raise RuntimeError("risk.json feature names do not match chalicelib.risk.features")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(MODEL_PATH), sess_options=opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        if inp.shape[-1] != N_FEATURES:
            raise RuntimeError(f"risk.onnx takes {inp.shape[-1]} features, expected {N_FEATURES}")
        outputs = sess.get_outputs()
        # zipmap is off, so the probabilities are a plain [N, 2] float tensor.
        prob = next((o.name for o in outputs if "prob" in o.name.lower()), outputs[-1].name)
        _input_name, _prob_output, _meta = inp.name, prob, meta
        _session = sess


def model_loaded() -> bool:
    return _session is not None


def metadata() -> dict[str, Any]:
    load()
    assert _meta is not None
    return _meta


def probability(features: np.ndarray) -> np.ndarray:
    """P(risky) for a [n, n_features] (or [n_features]) float32 array."""
    load()
    assert _session is not None and _prob_output is not None
    x = np.asarray(features, dtype=np.float32).reshape(-1, N_FEATURES)
    (probs,) = _session.run([_prob_output], {_input_name: x})
    return np.asarray(probs)[:, 1]


def level_for(score: int) -> Level:
    thresholds = metadata()["thresholds"]
    level: Level = "low"
    for name in LEVELS[1:]:
        if score >= int(thresholds[name]):
            level = name
    return level


def signals(bet: BetIn, history: History) -> list[str]:
    """Human-readable reasons, by fixed rules, most serious first."""
    cur = bet.currency
    stake = bet.stake_minor
    out: list[str] = []
    _, min_odds, _ = price_summary(bet)

    if history.bets_30d >= MIN_BETS_FOR_AVG and history.stake_30d_minor > 0:
        avg = history.stake_30d_minor / history.bets_30d
        ratio = stake / avg
        if ratio >= STAKE_VS_AVG and stake >= LARGE_STAKE_MINOR // 5:
            out.append(
                f"stake {format_minor(stake, cur)} is {ratio:.0f}× the 30-day average ({format_minor(round(avg), cur)})"
            )
    elif history.bets_30d == 0 and stake >= LARGE_STAKE_MINOR:
        out.append(f"stake {format_minor(stake, cur)} with no betting in the previous 30 days")
    if history.stake_24h_minor >= STAKE_24H_MINOR:
        out.append(f"{format_minor(history.stake_24h_minor, cur)} staked in the previous 24 h")
    if bet.customer_id is None and bet.channel == Channel.retail and stake > ANON_RETAIL_STAKE_MINOR:
        out.append(
            f"anonymous retail stake {format_minor(stake, cur)} (over {format_minor(ANON_RETAIL_STAKE_MINOR, cur)})"
        )
    if just_below_threshold(stake) and stake >= LARGE_STAKE_MINOR * 9 // 10:
        out.append(f"stake {format_minor(stake, cur)} is just under a round threshold")
    if min_odds < 2.0 and stake >= LARGE_STAKE_MINOR and bet_group(bet.bet_type) == "single":
        out.append(f"odds-on price ({min_odds:.2f}) with a large stake")
    each_way = bet.each_way or bet.bet_type == BetType.each_way
    if each_way and min_odds < SHORT_EACH_WAY_ODDS and stake >= LARGE_STAKE_MINOR // 5:
        out.append(f"each-way at a short price ({min_odds:.2f})")
    if history.distinct_shops_24h >= MANY_SHOPS_24H:
        out.append(f"bets in {history.distinct_shops_24h} different shops in the previous 24 h")
    if history.bets_24h >= MANY_BETS_24H:
        out.append(f"{history.bets_24h} bets in the previous 24 h")
    placed = bet.placed_at
    if placed.hour in NIGHT_HOURS:
        out.append(f"bet struck at {placed:%H:%M} UTC")
    secs = history.seconds_since_last_bet
    if secs is not None and secs < QUICK_REPEAT_S:
        out.append(f"placed {secs:.0f} s after the previous bet")
    lines = bet.lines
    if lines >= MANY_LINES and stake / lines <= SMALL_LINE_MINOR:
        out.append(f"{lines}-line {bet.bet_type.value} at {format_minor(stake // lines, cur)} a line")
    if bet.channel == Channel.online and bet.device_id is None:
        out.append("online bet without a device id")
    return out[:MAX_SIGNALS]


def assess(bet: BetIn, history: History) -> RiskAssessment:
    """Score ``bet`` given the subject's ``history`` before it."""
    p = float(probability(vectorize(bet, history))[0])
    score = int(min(100, max(0, round(100 * p))))
    level = level_for(score)
    return RiskAssessment(
        score=score,
        level=level,
        signals=signals(bet, history),
        recommendation=RECOMMENDATIONS[level],
        model_version=str(metadata()["model_version"]),
    )


__all__ = ["assess", "load", "metadata", "model_loaded", "probability", "signals"]
