"""Writer-linking metrics: retrieval (top-1, mAP, ROC AUC), and the runtime linking
(``chalicelib.domain.writer_linking.link_batch``) scored over several arrival orders."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from chalicelib.domain.writer_index import WriterIndex
from chalicelib.domain.writer_linking import LinkSettings, link_batch, resolve


def _unit(e: np.ndarray) -> np.ndarray:
    e = np.asarray(e, np.float64)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def retrieval_metrics(emb: np.ndarray, labels: Sequence[object]) -> dict[str, float]:
    """Leave-one-out retrieval among the given slips: top-1, mAP, same/different ROC AUC."""
    e = _unit(emb)
    lab = np.asarray([str(x) for x in labels])
    sims = e @ e.T
    np.fill_diagonal(sims, -np.inf)
    top1 = float(np.mean(lab[np.argmax(sims, axis=1)] == lab))
    aps = []
    for i in range(len(lab)):
        order = np.argsort(-sims[i])[:-1]  # the last is the slip itself (-inf)
        rel = lab[order] == lab[i]
        if rel.any():
            prec = np.cumsum(rel) / np.arange(1, len(rel) + 1)
            aps.append(float((prec * rel).sum() / rel.sum()))
    iu = np.triu_indices(len(lab), 1)
    same = (lab[:, None] == lab[None, :])[iu]
    auc = float(roc_auc_score(same, sims[iu])) if same.any() and (~same).any() else float("nan")
    return {"top1": round(top1, 4), "mAP": round(float(np.mean(aps)), 4), "roc_auc": round(auc, 4)}


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
    # B-cubed: per slip, the share of its predicted cluster that is its writer, and vice versa.
    ct, cp, both = Counter(t), Counter(p), Counter(zip(t, p, strict=True))
    bp = float(np.mean([both[(a, b)] / cp[b] for a, b in zip(t, p, strict=True)]))
    br = float(np.mean([both[(a, b)] / ct[a] for a, b in zip(t, p, strict=True)]))
    return {
        "pairwise_precision": round(prec, 4),
        "pairwise_recall": round(rec, 4),
        "bcubed_precision": round(bp, 4),
        "bcubed_recall": round(br, 4),
        "bcubed_f1": round(2 * bp * br / (bp + br), 4) if bp + br else 0.0,
        "adjusted_rand": round(float(adjusted_rand_score(t, p)), 4),
        "writers_true": len(ct),
        "writers_found": len(cp),
    }


def link_once(emb: np.ndarray, settings: LinkSettings, order: np.ndarray) -> tuple[list[str], list[Any], list[Any]]:
    """The runtime linking in ``order``: (writer per slip in the original order, decisions, merges)."""
    counter = itertools.count()
    index = WriterIndex(emb.shape[1])
    states: dict = {}
    merges: list = []
    out = link_batch(_unit(emb)[order], index, lambda: f"w{next(counter)}", settings, states, merges)
    labels = [""] * len(emb)
    decisions: list[Any] = [None] * len(emb)
    for i, (wid, d) in zip(order, out, strict=True):
        labels[int(i)] = resolve(wid, merges)
        decisions[int(i)] = d
    return labels, decisions, merges


def linking_metrics(
    emb: np.ndarray, labels: Sequence[object], settings: LinkSettings, n_orders: int = 5, seed: int = 0
) -> dict[str, float]:
    """Linking metrics averaged over ``n_orders`` random arrival orders (plus the worst order's
    precision), with the number of candidate links raised and how many were right."""
    rng = np.random.default_rng(seed)
    lab = [str(x) for x in labels]
    runs = []
    for _ in range(n_orders):
        pred, decisions, merges = link_once(emb, settings, rng.permutation(len(emb)))
        m: dict[str, float] = dict(clustering_metrics(lab, pred))
        # a candidate is right when the writer it points to holds (at the end) slips of its writer
        members: dict[str, set[str]] = {}
        for t, p in zip(lab, pred, strict=True):
            members.setdefault(p, set()).add(t)
        cands = [(t, d) for t, d in zip(lab, decisions, strict=True) if d.action == "candidate"]
        m["candidates"] = len(cands)
        m["candidates_right"] = sum(t in members.get(resolve(d.writer_id, merges), set()) for t, d in cands)
        runs.append(m)
    out = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}
    out["worst_order_precision"] = round(min(r["pairwise_precision"] for r in runs), 4)
    return out


def summarise(folds: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and worst (min; max for writers_found) of each metric over folds."""
    out: dict[str, dict[str, float]] = {}
    for k in folds[0]:
        vals = [f[k] for f in folds]
        out[k] = {"mean": round(float(np.mean(vals)), 4), "worst": round(float(min(vals)), 4)}
    return out
