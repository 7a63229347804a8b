"""Train, export and evaluate the bet risk model.

    python -m training.risk.train --out chalicelib/models --seed 7

Simulates bets (``training.risk.simulate``), turns them into features with the same
``chalicelib.risk.features.vectorize`` the runtime uses, splits BY CUSTOMER into train /
validation / held-out test, picks a HistGradientBoostingClassifier configuration on validation,
refits on train + validation, exports to ONNX with skl2onnx, checks the ONNX output against
sklearn's ``predict_proba`` on the test set, and writes ``risk.onnx`` and ``risk.json`` (metadata
and the held-out metrics, computed with the ONNX model).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from chalicelib.risk.features import FEATURE_NAMES, N_FEATURES, vectorize
from training.risk.simulate import RISKY, simulate

# Score (0-100) at which each level starts; below "medium" is "low".
THRESHOLDS = {"medium": 40, "high": 70, "critical": 90}
INPUT_NAME = "features"
MAX_ABS_DIFF = 1e-4
TARGET_OPSET = 17
CONFIGS: list[dict[str, Any]] = [
    {"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 40},
    {"max_iter": 250, "learning_rate": 0.08, "max_leaf_nodes": 31, "min_samples_leaf": 40},
]


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
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "flagged": int(flagged.sum()),
        "flag_rate": round(float(flagged.mean()), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def metrics(y: np.ndarray, p: np.ndarray, archetypes: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    score = np.rint(100 * p).astype(int)
    levels = level_of(score)
    out: dict[str, Any] = {
        "bets": len(y),
        "customers": len(np.unique(groups)),
        "positives": int(y.sum()),
        "base_rate": round(float(y.mean()), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "pr_auc": round(float(average_precision_score(y, p)), 4),
        "at_threshold": {f"score>={t} ({name})": _at(y, score >= t) for name, t in THRESHOLDS.items()},
        "levels": {
            lv: {
                "bets": int(np.sum(levels == lv)),
                "risky_rate": round(float(y[levels == lv].mean()), 4) if np.any(levels == lv) else None,
            }
            for lv in ("low", "medium", "high", "critical")
        },
        "recall_at_high_by_risky_archetype": {},
        "flag_rate_at_high_by_archetype": {},
    }
    high = score >= THRESHOLDS["high"]
    for a in sorted(set(archetypes.tolist())):
        m = archetypes == a
        pos = m & (y == 1)
        if a in RISKY and pos.sum() >= 20:
            out["recall_at_high_by_risky_archetype"][a] = round(float(high[pos].mean()), 4)
        out["flag_rate_at_high_by_archetype"][a] = round(float(high[m].mean()), 4)
    return out


def _patch_skl2onnx_leaf_missing_flag() -> None:
    """Work around skl2onnx 1.20 + current protobuf: HistGradientBoosting leaves pass
    ``nodes_missing_value_tracks_true=False`` (a bool) into an INTS attribute, which protobuf now
    rejects. Coerce it to int; the value is unchanged (our features never contain NaN anyway)."""
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


def onnx_proba(model: bytes, X: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
    out = sess.run(None, {INPUT_NAME: X.astype(np.float32)})
    probs = next(o for o in out if getattr(o, "ndim", 0) == 2)
    return np.asarray(probs[:, 1], dtype=np.float64)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train and export the bet risk model.")
    ap.add_argument("--out", type=Path, default=Path("chalicelib/models"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--customers", type=int, default=3000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    sims = simulate(args.seed, args.customers)
    X = np.stack([vectorize(s.bet, s.history) for s in sims]).astype(np.float32)
    y = np.array([s.label for s in sims], dtype=np.int64)
    groups = np.array([s.subject for s in sims])
    arch = np.array([s.archetype for s in sims])
    assert np.isfinite(X).all(), "non-finite features"
    print(f"simulated {len(y)} bets from {args.customers} customers in {time.perf_counter() - t0:.1f}s")

    outer = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=args.seed)
    trval, test = next(outer.split(X, y, groups))
    inner = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=args.seed + 1)
    tr_i, va_i = next(inner.split(X[trval], y[trval], groups[trval]))
    train, val = trval[tr_i], trval[va_i]
    assert not set(groups[train]) & set(groups[test]) and not set(groups[val]) & set(groups[test])

    best: tuple[float, dict[str, Any], np.ndarray] | None = None
    for cfg in CONFIGS:
        clf = HistGradientBoostingClassifier(random_state=args.seed, early_stopping=False, **cfg)
        clf.fit(X[train], y[train])
        p_val = clf.predict_proba(X[val])[:, 1]
        ap_val = float(average_precision_score(y[val], p_val))
        print(f"  {cfg} -> validation PR AUC {ap_val:.4f} ({time.perf_counter() - t0:.0f}s)")
        if best is None or ap_val > best[0]:
            best = (ap_val, cfg, p_val)
    assert best is not None
    cfg = best[1]
    val_metrics = metrics(y[val], best[2], arch[val], groups[val])

    clf = HistGradientBoostingClassifier(random_state=args.seed, early_stopping=False, **cfg)
    clf.fit(X[trval], y[trval])
    print(f"refit on train + validation ({time.perf_counter() - t0:.0f}s)")
    model = to_onnx(clf)

    p_sk = clf.predict_proba(X[test])[:, 1]
    p_onnx = onnx_proba(model, X[test])
    diff = float(np.max(np.abs(p_sk - p_onnx)))
    print(f"ONNX vs sklearn on {len(test)} test bets: max |diff| = {diff:.2e}")
    assert diff < MAX_ABS_DIFF, f"ONNX disagrees with sklearn: {diff}"
    test_metrics = metrics(y[test], p_onnx, arch[test], groups[test])

    sha = hashlib.sha256(model).hexdigest()
    meta = {
        "model_version": f"risk-1.0.0+{sha[:12]}",
        "onnx_sha256": sha,
        "input_name": INPUT_NAME,
        "n_features": N_FEATURES,
        "feature_names": FEATURE_NAMES,
        "thresholds": THRESHOLDS,
        "score": "round(100 * P(risky))",
        "training": {
            "seed": args.seed,
            "customers": args.customers,
            "data": "synthetic (training.risk.simulate)",
            "split": "by customer: 64% train / 16% validation / 20% held-out test",
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": cfg,
            "validation_pr_auc": round(best[0], 4),
            "sklearn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx_opset": TARGET_OPSET,
            "onnx_vs_sklearn_max_abs_diff": float(f"{diff:.3g}"),
        },
        "metrics": {"validation": val_metrics, "test": test_metrics},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "risk.onnx").write_bytes(model)
    (args.out / "risk.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(test_metrics, indent=2))
    print(
        f"wrote {args.out / 'risk.onnx'} ({len(model) / 1024:.0f} KiB) and risk.json in {time.perf_counter() - t0:.1f}s"
    )


if __name__ == "__main__":
    main()
