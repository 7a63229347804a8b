"""Real-time bet risk scoring: customer-relative features, ONNX model, calibration, signals.

    assess(bet, history, now) -> RiskAssessment

1. one pass over the subject's past bets (``features.summarise``), its segment, the feature row;
2. the ONNX tree ensemble's raw log-odds; when the stake is within the subject's own usual range
   (history whitelist) the stake-size groups are not counted (the log-odds with them at their
   reference values, if lower); a staff whitelist in force lowers the log-odds by a fixed amount;
3. isotonic calibration fitted on a held-out fold: score = round(100 × calibrated P(risky));
4. for bets at ≥ medium, reasons from the groups that moved the log-odds most (``explain``).

The onnxruntime session is created once per process, lazily and thread-safely. Only numpy and
onnxruntime are imported here: no sklearn.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from chalicelib.domain.bets import BetIn, History
from chalicelib.domain.money import format_minor
from chalicelib.domain.risk import Level, RiskAssessment, Signal
from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.risk import explain
from chalicelib.risk.features import (
    FEATURE_NAMES,
    N_FEATURES,
    WITHIN_MIN_BETS,
    WITHIN_MIN_DAYS,
    WITHIN_RATIO,
    Summary,
    summarise,
    vectorize,
    within_history,
)
from chalicelib.risk.segments import SegmentModel

MODEL_DIR = Path(__file__).parent.parent / "models"
MODEL_PATH = MODEL_DIR / "risk.onnx"
META_PATH = MODEL_DIR / "risk.json"
SEGMENTS_PATH = MODEL_DIR / "risk_segments.json"

LEVELS: tuple[Level, ...] = ("low", "medium", "high", "critical")
RECOMMENDATIONS: dict[str, str] = {
    "low": "accept",
    "medium": "accept and monitor",
    "high": "refer to trader before settlement",
    "critical": "hold and refer to compliance",
}
EPS = 1e-6


@dataclass(frozen=True)
class WhitelistPolicy:
    """History whitelist (the fraud lab's: within ``ratio``× the subject's own average, given at
    least ``min_bets`` past bets on ``min_days`` days) and the staff whitelist's damping."""

    ratio: float = WITHIN_RATIO
    min_bets: int = WITHIN_MIN_BETS
    min_days: int = WITHIN_MIN_DAYS
    staff_log_odds: float = math.log(10.0)  # a staff whitelist divides the odds of risk by 10


DEFAULT_POLICY = WhitelistPolicy()


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(q / (1 - q)))


class RiskModel:
    """The ONNX session with its metadata, calibration and segments."""

    def __init__(self, onnx: bytes | str, meta: dict[str, Any], segments: SegmentModel) -> None:
        if meta["feature_names"] != FEATURE_NAMES:
            raise RuntimeError("risk.json feature names do not match chalicelib.risk.features")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx, sess_options=opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        if inp.shape[-1] != N_FEATURES:
            raise RuntimeError(f"risk.onnx takes {inp.shape[-1]} features, expected {N_FEATURES}")
        outputs = self.session.get_outputs()
        # zipmap is off, so the probabilities are a plain [N, 2] float tensor.
        self.prob_output = next((o.name for o in outputs if "prob" in o.name.lower()), outputs[-1].name)
        self.input_name = inp.name
        self.meta = meta
        self.segments = segments
        self.thresholds = {k: int(v) for k, v in meta["thresholds"].items()}
        cal = meta.get("calibration") or {"x": [0.0, 1.0], "y": [0.0, 1.0]}
        self.cal_x = np.asarray(cal["x"], dtype=np.float64)
        self.cal_y = np.asarray(cal["y"], dtype=np.float64)
        self.reference = np.asarray(meta["reference"], dtype=np.float32)
        self.suppressed = set(meta.get("suppressed_signals", []))
        self.version = str(meta["model_version"])

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """Uncalibrated P(risky) of each row."""
        (probs,) = self.session.run([self.prob_output], {self.input_name: rows.astype(np.float32, copy=False)})
        return np.asarray(probs, dtype=np.float64)[:, 1]

    def calibrate(self, p_raw: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(p_raw, self.cal_x, self.cal_y))

    def occluded(self, x: np.ndarray, groups: tuple[str, ...] | list[str]) -> np.ndarray:
        rows = np.repeat(x[None, :], len(groups), axis=0)
        for i, g in enumerate(groups):
            idx = explain.GROUP_INDEX[g]
            rows[i, idx] = self.reference[idx]
        return rows

    def amount_free(self, x: np.ndarray) -> np.ndarray:
        """``x`` with every stake-size feature at its reference value (the history whitelist)."""
        row = x.copy()
        for g in explain.AMOUNT_GROUPS:
            idx = explain.GROUP_INDEX[g]
            row[idx] = self.reference[idx]
        return row

    def level_for(self, score: int) -> Level:
        level: Level = "low"
        for name in LEVELS[1:]:
            if score >= self.thresholds[name]:
                level = name
        return level


_lock = threading.Lock()
_model: RiskModel | None = None


def load() -> RiskModel:
    """Create the ONNX session and read the metadata (idempotent, thread-safe)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                meta = json.loads(META_PATH.read_text())
                _model = RiskModel(str(MODEL_PATH), meta, SegmentModel.from_file(SEGMENTS_PATH))
    return _model


def model_loaded() -> bool:
    return _model is not None


def metadata() -> dict[str, Any]:
    return load().meta


def probability(features: np.ndarray) -> np.ndarray:
    """Calibrated P(risky) for a [n, n_features] (or [n_features]) array, before any whitelist."""
    m = load()
    return m.calibrate(m.raw(np.asarray(features, dtype=np.float32).reshape(-1, N_FEATURES)))


def level_for(score: int) -> Level:
    return load().level_for(score)


@dataclass
class Scored:
    """Everything ``assess`` works out (the evaluation reads it too)."""

    x: np.ndarray
    summary: Summary
    segment: int | None
    raw_log_odds: float
    log_odds: float  # after the whitelists
    probability: float
    within_history: bool
    whitelisted: bool
    within_delta: float = 0.0  # log-odds removed by the history whitelist (≤ 0)
    staff_delta: float = 0.0  # log-odds removed by the staff whitelist (≤ 0)


def score(
    bet: BetIn,
    history: SubjectHistory,
    now: datetime | None = None,
    policy: WhitelistPolicy = DEFAULT_POLICY,
    model: RiskModel | None = None,
) -> Scored:
    m = model or load()
    now = now or bet.placed_at
    s = summarise(bet, history, now)
    seg = m.segments.assign(s)
    x = vectorize(bet, history, now, segment_stats=m.segments.stats(seg), summary=s)
    within = within_history(bet, s, policy.ratio, policy.min_bets, policy.min_days)
    rows = np.stack([x, m.amount_free(x)]) if within else x[None, :]
    lo = _logit(m.raw(rows))
    raw = float(lo[0])
    within_delta = min(0.0, float(lo[1]) - raw) if within else 0.0
    whitelisted = history.whitelisted_until is not None and now < history.whitelisted_until
    staff_delta = -policy.staff_log_odds if whitelisted else 0.0
    z = raw + within_delta + staff_delta
    p = float(m.calibrate(1.0 / (1.0 + math.exp(-z))))
    return Scored(x, s, seg, raw, z, p, within, whitelisted, within_delta, staff_delta)


def reasons(bet: BetIn, sc: Scored, level: Level, model: RiskModel | None = None) -> list[Signal]:
    """Reasons for the score: the groups that moved it most (bets at ≥ medium), then the damping."""
    m = model or load()
    seg_name = m.segments.segments[sc.segment].name if sc.segment is not None else None
    out: list[Signal] = []
    if level != "low":
        names = list(explain.GROUPS)
        lo = _logit(m.raw(m.occluded(sc.x, names)))
        contrib = {g: sc.raw_log_odds - float(v) for g, v in zip(names, lo, strict=True)}
        if sc.within_history:  # the stake size was not counted: do not give it as a reason
            for g in explain.AMOUNT_GROUPS:
                contrib[g] = min(contrib[g], 0.0)
        texts: set[str] = set()
        for g, w in explain.choose(contrib, m.suppressed, at_least_one=True):
            t = explain.text(g, bet, sc.summary, seg_name)
            if t not in texts:  # two stake groups can read the same: say it once
                texts.add(t)
                out.append(Signal(code=g, text=t, weight=round(w, 3)))
    s = sc.summary
    if sc.within_history:
        out.append(
            Signal(
                code="within_history",
                text=(
                    f"stake {format_minor(bet.stake_minor, bet.currency)} is within this customer's usual range "
                    f"(30-day average {format_minor(round(s.mean_stake), bet.currency)} over {s.n} bets): "
                    "stake size not counted"
                ),
                weight=round(sc.within_delta, 3),
            )
        )
    if sc.whitelisted:
        out.append(
            Signal(
                code="staff_whitelist",
                text="subject whitelisted by staff: score damped",
                weight=round(sc.staff_delta, 3),
            )
        )
    return out


def assess(
    bet: BetIn,
    history: SubjectHistory | History | None = None,
    now: datetime | None = None,
    *,
    policy: WhitelistPolicy = DEFAULT_POLICY,
) -> RiskAssessment:
    """Score ``bet`` given the subject's raw ``history`` before it, at ``now`` (default placed_at)."""
    m = load()
    if not isinstance(history, SubjectHistory):
        # Transitional: the aggregate ``schemas.History`` the bet path passes today cannot give
        # customer-relative features; score as an unknown subject until the lead wires PastBets.
        history = SubjectHistory()
    sc = score(bet, history, now, policy, m)
    value = int(min(100, max(0, round(100 * sc.probability))))
    level = m.level_for(value)
    rs = reasons(bet, sc, level, m)
    seg_name = m.segments.segments[sc.segment].name if sc.segment is not None else None
    return RiskAssessment(
        score=value,
        level=level,
        signals=[r.text for r in rs],
        recommendation=RECOMMENDATIONS[level],
        model_version=m.version,
        probability=round(sc.probability, 4),
        segment=sc.segment,
        segment_name=seg_name,
        within_history=sc.within_history,
        whitelisted=sc.whitelisted,
        reasons=rs,
    )


__all__ = [
    "DEFAULT_POLICY",
    "RiskModel",
    "Scored",
    "WhitelistPolicy",
    "assess",
    "level_for",
    "load",
    "metadata",
    "model_loaded",
    "probability",
    "reasons",
    "score",
]
