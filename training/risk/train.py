"""Train, calibrate, export and evaluate the bet risk model.

    python -m training.risk.train --out chalicelib/models --seed 7

1. Simulator A (``training.risk.simulate``), six weeks. Customers are split into TRAIN (65 %),
   CALIBRATION (15 %) and UNSEEN (20 %); weeks 1–4 are "early", weeks 5–6 "late".
2. Segments: KMeans on the scaled per-customer profiles of TRAIN customers at the end of week 4;
   k in 3..8 chosen by silhouette; written as centroids to ``risk_segments.json``.
3. Features with ``chalicelib.risk.features.vectorize`` (the runtime's code), the segment from
   the runtime's ``SegmentModel``.
4. HistGradientBoosting on TRAIN × early (configuration chosen on CALIBRATION × early), exported
   to ONNX; isotonic calibration fitted on CALIBRATION × early (after the history whitelist).
5. Signal firing rates on CALIBRATION × early: groups with lift < 1.5 are suppressed.
6. Evaluation through the runtime scorer loaded from the written artefacts, never fitted on:
   time split (TRAIN customers, late weeks), unseen customers (UNSEEN, all weeks), and
   simulator B (``training.risk.simulate_b``, written separately, only ever used here).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, roc_auc_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.risk import explain, scorer
from chalicelib.risk.features import (
    FEATURE_NAMES,
    INDEX,
    N_FEATURES,
    PROFILE_NAMES,
    profile_vector,
    summarise,
    vectorize,
    within_history,
)
from chalicelib.risk.segments import SegmentModel
from training.risk import simulate as sim_a
from training.risk import simulate_b as sim_b

# Score (0-100) at which each level starts; chosen on the calibration fold (``choose_thresholds``).
THRESHOLDS = {"medium": 40, "high": 70, "critical": 90}
# Precision each level should reach on the calibration fold (a business choice, fixed up front).
LEVEL_PRECISION = {"medium": 0.5, "high": 0.825, "critical": 0.95}
INPUT_NAME = "features"
TARGET_OPSET = 17
EARLY_DAYS = 28
SEGMENT_MIN_BETS = 5
K_CANDIDATES = range(3, 11)
CONFIGS: list[dict[str, Any]] = [
    {"max_iter": 200, "learning_rate": 0.06, "max_leaf_nodes": 15, "min_samples_leaf": 60, "l2_regularization": 1.0},
    {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 31, "min_samples_leaf": 40, "l2_regularization": 1.0},
]
# More of these never makes a bet less risky: keeps the trees from learning simulator quirks.
INCREASING = [
    "stake_z_own",
    "log_stake_vs_mean_own",
    "stake_z_segment",
    "bets_10m",
    "rising_chain",
    "new_device",
    "devices_24h",
    "shops_24h",
    "just_below_24h",
    "log_speed_kmh",
    "both_sides_1h",
    "odd_stake_new_account",
    "just_below_threshold",
]
DECREASING = ["within_history"]


def choose_thresholds(y: np.ndarray, score: np.ndarray) -> dict[str, int]:
    """Lowest score at which flagging reaches each level's precision on the calibration fold."""
    out: dict[str, int] = {}
    floor = 20
    for name, want in LEVEL_PRECISION.items():
        t = next(
            (t for t in range(floor, 100) if (score >= t).any() and y[score >= t].mean() >= want),
            max(floor, THRESHOLDS[name]),
        )
        out[name] = t
        floor = t + 5
    return out


def level_of(score: np.ndarray) -> np.ndarray:
    out = np.full(score.shape, "low", dtype=object)
    for name, t in THRESHOLDS.items():  # ascending
        out[score >= t] = name
    return out


def _at(y: np.ndarray, flagged: np.ndarray) -> dict[str, float | int]:
    tp = int(np.sum(flagged & (y == 1)))
    fp = int(np.sum(flagged & (y == 0)))
    fn = int(np.sum(~flagged & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "flagged": int(flagged.sum()),
        "flag_rate": round(float(flagged.mean()), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def _precision_at_recall(y: np.ndarray, p: np.ndarray, recall: float = 0.75) -> float:
    order = np.argsort(-p, kind="stable")
    tp = np.cumsum(y[order])
    rec = tp / max(1, y.sum())
    prec = tp / np.arange(1, len(y) + 1)
    ok = rec >= recall
    return round(float(prec[ok].max()), 4) if ok.any() else 0.0


def reliability(y: np.ndarray, score: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for lo in range(0, 100, 10):
        m = (score >= lo) & (score < lo + 10 if lo < 90 else score <= 100)
        if m.any():
            rows.append(
                {
                    "scores": f"{lo}-{lo + 9 if lo < 90 else 100}",
                    "bets": int(m.sum()),
                    "mean_score": round(float(score[m].mean()), 1),
                    "observed_risky_pct": round(100 * float(y[m].mean()), 1),
                }
            )
    return rows


def evaluate(rows: list[Any], model: scorer.RiskModel) -> dict[str, Any]:
    """Score ``rows`` through the runtime scorer and report everything the card shows."""
    y = np.array([r.label for r in rows], dtype=np.int64)
    score = np.empty(len(rows))
    prob = np.empty(len(rows))
    no_signal = no_signal_risky = 0
    fires: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    t0 = time.perf_counter()
    for i, r in enumerate(rows):
        sc = scorer.score(r.bet, r.history, None, scorer.DEFAULT_POLICY, model)
        prob[i] = sc.probability
        score[i] = min(100, max(0, round(100 * sc.probability)))
        level = model.level_for(int(score[i]))
        if level != "low":
            reasons = scorer.reasons(r.bet, sc, level, model)
            shown = [s for s in reasons if s.code not in ("within_history", "staff_whitelist")]
            no_signal += not shown
            no_signal_risky += (not shown) and r.label == 1
            for s in shown:
                fires[s.code][r.label] += 1
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(rows))
    patterns = np.array([r.pattern for r in rows])
    hour = np.array([r.bet.placed_at.hour for r in rows])
    high = score >= THRESHOLDS["high"]
    med = score >= THRESHOLDS["medium"]
    levels = level_of(score)
    out: dict[str, Any] = {
        "bets": len(y),
        "customers": len({r.subject for r in rows}),
        "positives": int(y.sum()),
        "base_rate": round(float(y.mean()), 4),
        "roc_auc": round(float(roc_auc_score(y, prob)), 4),
        "pr_auc": round(float(average_precision_score(y, prob)), 4),
        "precision_at_recall_0.75": _precision_at_recall(y, prob),
        "at_level": {f">= {name} ({t})": _at(y, score >= t) for name, t in THRESHOLDS.items()},
        "levels": {
            lv: {
                "bets": int(np.sum(levels == lv)),
                "risky_pct": round(100 * float(y[levels == lv].mean()), 1) if np.any(levels == lv) else None,
            }
            for lv in ("low", "medium", "high", "critical")
        },
        "reliability": reliability(y, score),
        "recall_by_pattern": {},
        "false_positive_rate_at_high": {},
        "risky_at_medium_without_signal": no_signal_risky,
        "bets_at_medium_without_signal": no_signal,
        "signals_shown": {
            g: {"innocent": v[0], "risky": v[1]} for g, v in sorted(fires.items(), key=lambda kv: -sum(kv[1]))
        },
        "scoring_ms_per_bet": round(ms, 3),
    }
    for pat in sorted(set(patterns.tolist())):
        pos = (patterns == pat) & (y == 1)
        if pos.sum() >= 10 and (y[patterns == pat].mean() > 0.5):
            out["recall_by_pattern"][pat] = {
                "risky_bets": int(pos.sum()),
                "recall_at_high": round(float(high[pos].mean()), 4),
                "recall_at_medium": round(float(med[pos].mean()), 4),
                "median_score": float(np.median(score[pos])),
            }
    neg = y == 0
    for name, mask in {
        "saturday_acca": patterns == "saturday_acca",
        "high_roller": patterns == "high_roller",
        "night_00_05_utc": hour < 5,
        "anonymous": np.array([r.bet.customer_id is None for r in rows]),
        "all_innocent": np.ones(len(rows), dtype=bool),
    }.items():
        m = mask & neg
        if m.sum():
            out["false_positive_rate_at_high"][name] = {"bets": int(m.sum()), "rate": round(float(high[m].mean()), 4)}
    return out


# -- segments ------------------------------------------------------------------------------------
def _segment_name(c: dict[str, float]) -> tuple[str, str]:
    c = {k: max(0.0, v) for k, v in c.items()}  # shares and logs of a centroid: no "-0 %"
    stake = math.exp(c["mean_log_stake"]) - 1
    per_day = math.exp(c["log_bets_per_active_day"])
    where = "retail" if c["share_retail"] > 0.5 else "online"
    what = "multiples" if c["share_multiples"] > 0.5 else "singles"
    size = "high-stake" if stake >= 100 else "mid-stake" if stake >= 15 else "low-stake"
    extra = []
    if c["share_short_odds_singles"] > 0.4:
        extra.append("short prices")
    if c["share_night"] > 0.3:
        extra.append("night")
    if per_day >= 4:
        extra.append("frequent")
    name = " ".join([size, where, what] + ([f"({', '.join(extra)})"] if extra else []))
    desc = (
        f"typical stake £{stake:.0f}, {per_day:.1f} bets per active day, {c['share_online']:.0%} online, "
        f"{c['share_retail']:.0%} retail, {c['share_multiples']:.0%} multiples, "
        f"{c['share_short_odds_singles']:.0%} of singles odds-on, {c['share_night']:.0%} at night (00-06 UTC)"
    )
    return name, desc


def fit_segments(rows: list[Any], train_subjects: set[str], seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """KMeans on TRAIN customers' profiles at the end of the early weeks."""
    last: dict[str, Any] = {}
    for r in rows:
        if r.subject in train_subjects and r.day < EARLY_DAYS and r.bet.customer_id is not None:
            last[r.subject] = r
    profiles, stakes = [], []
    for r in last.values():
        hist = SubjectHistory.model_construct(
            bets=[*r.history.bets, sim_a.past_bet(r.bet)], whitelisted_until=None, category=None, first_seen_at=None
        )
        s = summarise(None, hist)
        if s.n >= SEGMENT_MIN_BETS:
            profiles.append(profile_vector(s))
            stakes.append([math.log(b.stake_minor / 100 + 1) for b in hist.bets])
    P = np.asarray(profiles)
    scaler = StandardScaler().fit(P)
    Z = scaler.transform(P)
    sil: dict[int, float] = {}
    fits: dict[int, KMeans] = {}
    for k in K_CANDIDATES:
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Z)
        fits[k] = km
        sil[k] = float(silhouette_score(Z, km.labels_, sample_size=min(3000, len(Z)), random_state=seed))
    k = max(sil, key=lambda kk: sil[kk])
    km = fits[k]
    segs = []
    for j in range(k):
        members = np.flatnonzero(km.labels_ == j)
        logs = np.concatenate([stakes[i] for i in members])
        centre = dict(
            zip(PROFILE_NAMES, scaler.inverse_transform(km.cluster_centers_[j : j + 1])[0].tolist(), strict=True)
        )
        name, desc = _segment_name(centre)
        segs.append(
            {
                "id": j,
                "name": name,
                "description": desc,
                "customers": len(members),
                "log_stake_mean": round(float(logs.mean()), 5),
                "log_stake_std": round(float(logs.std()), 5),
            }
        )
    doc = {
        "profile_names": PROFILE_NAMES,
        "min_bets": SEGMENT_MIN_BETS,
        "scaler_mean": scaler.mean_.tolist(),
        "scaler_scale": scaler.scale_.tolist(),
        "centroids": km.cluster_centers_.tolist(),
        "segments": segs,
    }
    report = {
        "customers": len(P),
        "silhouette_by_k": {str(kk): round(v, 4) for kk, v in sil.items()},
        "inertia_by_k": {str(kk): round(float(fits[kk].inertia_), 1) for kk in K_CANDIDATES},
        "k": k,
    }
    return doc, report


# -- model ---------------------------------------------------------------------------------------
def featurise(rows: list[Any], segments: SegmentModel) -> tuple[np.ndarray, np.ndarray]:
    X = np.empty((len(rows), N_FEATURES), dtype=np.float32)
    within = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows):
        s = summarise(r.bet, r.history)
        seg = segments.assign(s)
        X[i] = vectorize(r.bet, r.history, segment_stats=segments.stats(seg), summary=s)
        within[i] = within_history(
            r.bet, s, scorer.DEFAULT_POLICY.ratio, scorer.DEFAULT_POLICY.min_bets, scorer.DEFAULT_POLICY.min_days
        )
    return X, within


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _patch_skl2onnx_leaf_missing_flag() -> None:
    """skl2onnx 1.20 + current protobuf: HistGradientBoosting leaves pass a bool into an INTS
    attribute, which protobuf rejects. Coerce it to int (the value is unchanged)."""
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node
    if getattr(original, "_betwatch_patched", False):
        return

    def add_node(*args: Any, **kwargs: Any) -> Any:
        if "nodes_missing_value_tracks_true" in kwargs:
            kwargs["nodes_missing_value_tracks_true"] = int(kwargs["nodes_missing_value_tracks_true"])
        return original(*args, **kwargs)

    add_node._betwatch_patched = True  # type: ignore[attr-defined]
    tree_ensemble.add_node = add_node


def to_onnx(clf: HistGradientBoostingClassifier) -> bytes:
    _patch_skl2onnx_leaf_missing_flag()
    onx = convert_sklearn(
        clf,
        initial_types=[(INPUT_NAME, FloatTensorType([None, N_FEATURES]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": TARGET_OPSET, "ai.onnx.ml": 3},
    )
    onx.doc_string = "betwatch bet risk model (synthetic training data)"
    onx.graph.name = "betwatch_risk"  # skl2onnx picks a random name; fixed for reproducible bytes
    return bytes(onx.SerializeToString())


def _amount_free(X: np.ndarray, ref: np.ndarray) -> np.ndarray:
    Y = X.copy()
    for g in explain.AMOUNT_GROUPS:
        idx = explain.GROUP_INDEX[g]
        Y[:, idx] = ref[idx]
    return Y


def signal_lift(clf: HistGradientBoostingClassifier, X: np.ndarray, y: np.ndarray, ref: np.ndarray) -> dict[str, Any]:
    """How often each group would be shown (contribution ≥ MIN_WEIGHT) on innocent vs risky bets."""
    base = _logit(clf.predict_proba(X)[:, 1])
    out = {}
    for g, idx in explain.GROUP_INDEX.items():
        Xo = X.copy()
        Xo[:, idx] = ref[idx]
        fire = (base - _logit(clf.predict_proba(Xo)[:, 1])) >= explain.MIN_WEIGHT
        r_pos = float(fire[y == 1].mean())
        r_neg = float(fire[y == 0].mean())
        out[g] = {
            "risky_rate": round(r_pos, 4),
            "innocent_rate": round(r_neg, 4),
            "lift": round(r_pos / r_neg, 2) if r_neg > 0 else None,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train and export the bet risk model.")
    ap.add_argument("--out", type=Path, default=Path("chalicelib/models"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--b-customers", type=int, default=1500)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)

    rows = sim_a.simulate(args.seed, args.customers)
    subjects = sorted({r.subject for r in rows})
    role = dict(
        zip(subjects, rng.choice(["train", "cal", "unseen"], size=len(subjects), p=[0.65, 0.15, 0.20]), strict=True)
    )
    train_subj = {s for s, r in role.items() if r == "train"}
    print(f"simulator A: {len(rows)} bets from {args.customers} customers ({time.perf_counter() - t0:.0f}s)")

    seg_doc, seg_report = fit_segments(rows, train_subj, args.seed)
    segments = SegmentModel(seg_doc)
    print(f"segments: k={seg_report['k']} silhouette {seg_report['silhouette_by_k']}")

    X, within = featurise(rows, segments)
    assert np.isfinite(X).all(), "non-finite features"
    y = np.array([r.label for r in rows], dtype=np.int64)
    r_role = np.array([role[r.subject] for r in rows])
    early = np.array([r.day < EARLY_DAYS for r in rows])
    tr = np.flatnonzero((r_role == "train") & early)
    cal = np.flatnonzero((r_role == "cal") & early)
    print(f"features: {X.shape} ({time.perf_counter() - t0:.0f}s); train {len(tr)}, calibration {len(cal)}")

    mono = [1 if f in INCREASING else -1 if f in DECREASING else 0 for f in FEATURE_NAMES]
    best: tuple[float, dict[str, Any], HistGradientBoostingClassifier] | None = None
    selection = []
    for cfg in CONFIGS:
        clf = HistGradientBoostingClassifier(random_state=args.seed, early_stopping=False, monotonic_cst=mono, **cfg)
        clf.fit(X[tr], y[tr])
        ap_cal = float(average_precision_score(y[cal], clf.predict_proba(X[cal])[:, 1]))
        selection.append({"params": cfg, "calibration_fold_pr_auc": round(ap_cal, 4)})
        print(f"  {cfg} -> calibration-fold PR AUC {ap_cal:.4f} ({time.perf_counter() - t0:.0f}s)")
        if best is None or ap_cal > best[0]:
            best = (ap_cal, cfg, clf)
    assert best is not None
    _, cfg, clf = best
    ref = np.median(X[tr][y[tr] == 0], axis=0).astype(np.float32)

    # calibration on the held-out fold, after the history whitelist (as the scorer applies it)
    p_cal = clf.predict_proba(X[cal])[:, 1]
    p_free = clf.predict_proba(_amount_free(X[cal], ref))[:, 1]
    p_cal = np.where(within[cal], np.minimum(p_cal, p_free), p_cal)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p_cal, y[cal])
    cal_x = [round(float(v), 6) for v in iso.X_thresholds_]
    cal_y = [round(float(v), 6) for v in iso.y_thresholds_]

    score_cal = np.rint(100 * iso.predict(p_cal)).astype(int)
    THRESHOLDS.update(choose_thresholds(y[cal], score_cal))
    print(f"thresholds (calibration fold): {THRESHOLDS}")

    lift = signal_lift(clf, X[cal], y[cal], ref)
    suppressed = sorted(g for g, v in lift.items() if v["lift"] is not None and v["lift"] < explain.MIN_LIFT)

    model = to_onnx(clf)
    sha = hashlib.sha256(model).hexdigest()
    meta: dict[str, Any] = {
        "model_version": f"risk-2.0.0+{sha[:12]}",
        "onnx_sha256": sha,
        "input_name": INPUT_NAME,
        "n_features": N_FEATURES,
        "feature_names": FEATURE_NAMES,
        "thresholds": dict(THRESHOLDS),
        "thresholds_rule": "lowest score whose flags reach precision "
        + str(LEVEL_PRECISION)
        + " on the calibration fold",
        "score": "round(100 * isotonic(P_raw after whitelists))",
        "calibration": {"method": "isotonic, fitted on the calibration fold", "x": cal_x, "y": cal_y},
        "reference": [round(float(v), 6) for v in ref],
        "suppressed_signals": suppressed,
        "signal_lift_calibration_fold": lift,
        "training": {
            "seed": args.seed,
            "customers": args.customers,
            "data": "synthetic (training.risk.simulate = simulator A)",
            "split": "customers 65% train / 15% calibration / 20% unseen; weeks 1-4 early, 5-6 late",
            "train_rows": int(len(tr)),
            "calibration_rows": int(len(cal)),
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier (monotonic constraints)",
            "params": cfg,
            "selection": selection,
            "increasing": INCREASING,
            "decreasing": DECREASING,
            "sklearn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx_opset": TARGET_OPSET,
        },
        "segments": seg_report,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "risk.onnx").write_bytes(model)
    (args.out / "risk_segments.json").write_text(json.dumps(seg_doc, indent=1) + "\n")

    runtime = scorer.RiskModel(model, meta, segments)
    p_sk = clf.predict_proba(X[cal[:2000]])[:, 1]
    diff = float(np.max(np.abs(p_sk - runtime.raw(X[cal[:2000]]))))
    assert diff < 1e-4, f"ONNX disagrees with sklearn: {diff}"
    meta["training"]["onnx_vs_sklearn_max_abs_diff"] = float(f"{diff:.3g}")

    late = ~early
    tests = {
        "time_split": [rows[i] for i in np.flatnonzero((r_role == "train") & late)],
        "unseen_customers": [rows[i] for i in np.flatnonzero(r_role == "unseen")],
    }
    metrics: dict[str, Any] = {}
    for name, part in tests.items():
        metrics[name] = evaluate(part, runtime)
        print(
            f"{name}: {json.dumps({k: metrics[name][k] for k in ('bets', 'roc_auc', 'pr_auc', 'precision_at_recall_0.75')})}"
        )
    for seed_b in (101, 202, 303):
        rows_b = sim_b.simulate(seed_b, args.b_customers)
        key = f"simulator_b_seed{seed_b}"
        metrics[key] = evaluate(rows_b, runtime)
        print(
            f"{key}: {json.dumps({k: metrics[key][k] for k in ('bets', 'roc_auc', 'pr_auc', 'precision_at_recall_0.75')})}"
        )
    meta["metrics"] = metrics
    (args.out / "risk.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(
        f"wrote {args.out}/risk.onnx ({len(model) / 1024:.0f} KiB), risk.json, risk_segments.json in {time.perf_counter() - t0:.0f}s"
    )
    _ = INDEX  # the feature index is part of the artefact contract (names above)


if __name__ == "__main__":
    main()
