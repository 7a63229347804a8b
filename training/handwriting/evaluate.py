"""Writer-linking metrics, and a sanity check of the shipped model on real scanned slips.

    python -m training.handwriting.evaluate --path /work/shared/data/betfred-slips

The path holds one sub-folder per writer (``writerN/*.jpg``).  Each slip goes through the
runtime ``embed_slip``; the slips are then linked with the runtime ``assign_batch`` (in a
few random orders) and compared with the folders.
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, roc_auc_score, roc_curve


def verification_metrics(emb: np.ndarray, labels: Sequence[object]) -> dict[str, float]:
    """ROC AUC and EER of cosine similarity on all same- vs different-writer pairs."""
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sims = emb @ emb.T
    lab = np.asarray([str(x) for x in labels])
    iu = np.triu_indices(len(lab), 1)
    same = (lab[:, None] == lab[None, :])[iu]
    s = sims[iu]
    auc = float(roc_auc_score(same, s))
    fpr, tpr, _ = roc_curve(same, s)
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return {
        "roc_auc": round(auc, 4),
        "eer": round(float((fpr[i] + fnr[i]) / 2), 4),
        "mean_sim_same": round(float(s[same].mean()), 4),
        "mean_sim_diff": round(float(s[~same].mean()), 4),
    }


def clustering_metrics(true: Sequence[object], pred: Sequence[object]) -> dict[str, float]:
    t = [str(x) for x in true]
    p = [str(x) for x in pred]
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(t)), 2):
        st, sp = t[i] == t[j], p[i] == p[j]
        tp += st and sp
        fp += sp and not st
        fn += st and not sp
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    clusters: dict[str, list[str]] = {}
    for a, b in zip(t, p, strict=True):
        clusters.setdefault(b, []).append(a)
    purity = sum(Counter(v).most_common(1)[0][1] for v in clusters.values()) / len(t)
    return {
        "pairwise_precision": round(prec, 4),
        "pairwise_recall": round(rec, 4),
        "pairwise_f1": round(f1, 4),
        "purity": round(purity, 4),
        "adjusted_rand": round(float(adjusted_rand_score(t, p)), 4),
        "writers_true": len(set(t)),
        "writers_found": len(clusters),
    }


def open_set_cluster(emb: np.ndarray, threshold: float, order: np.ndarray) -> list[str]:
    """Run the runtime sequential assignment in ``order``; returns labels in original order."""
    from chalicelib.writer_matching import WriterCentroid, assign_batch

    counter = itertools.count()
    writers: list[WriterCentroid] = []
    res = assign_batch([emb[i] for i in order], writers, lambda: f"w{next(counter)}", threshold)
    labels = [""] * len(emb)
    for i, (wid, _, _) in zip(order, res, strict=True):
        labels[int(i)] = wid
    return labels


def averaged_clustering(
    emb: np.ndarray, labels: Sequence[object], threshold: float, n_orders: int = 5, seed: int = 0
) -> dict[str, float]:
    """Clustering metrics averaged over ``n_orders`` random arrival orders."""
    rng = np.random.default_rng(seed)
    runs = [
        clustering_metrics(labels, open_set_cluster(emb, threshold, rng.permutation(len(emb)))) for _ in range(n_orders)
    ]
    return {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", required=True, type=Path, help="folder with one sub-folder of slips per writer")
    ap.add_argument("--orders", type=int, default=5)
    args = ap.parse_args(argv)

    from chalicelib.writer_matching import THRESHOLD
    from functions.slip_scoring.pipeline import SlipRejected, embed_slip

    vecs, labels = [], []
    for f in sorted(args.path.glob("*/*")):
        if f.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            e = embed_slip(f.read_bytes())
        except SlipRejected as exc:
            print(f"rejected {f.name}: {exc.reason}")
            continue
        vecs.append(e.vector)
        labels.append(f.parent.name)
    emb = np.asarray(vecs, np.float64)
    print(f"{len(emb)} slips, {len(set(labels))} writers, threshold {THRESHOLD:.3f}")
    print("verification:", verification_metrics(emb, labels))
    print(f"open-set clustering at the shipped threshold (mean of {args.orders} orders):")
    print("  ", averaged_clustering(emb, labels, THRESHOLD, args.orders))
    # Diagnostic only (not used to pick anything that ships): best threshold on this data.
    best = max(
        ((t, averaged_clustering(emb, labels, t, args.orders)) for t in np.arange(0.0, 1.0, 0.02)),
        key=lambda tr: tr[1]["pairwise_f1"],
    )
    print(f"oracle threshold on these slips (diagnostic, optimistic): {best[0]:.2f} -> {best[1]}")


if __name__ == "__main__":
    main()
