"""Writer linking on a folder of real slips, through the runtime path.

    python -m training.handwriting.evaluate --path DIR [--orders 10]      (make evaluate-slips SLIPS=DIR)

``DIR`` holds one sub-folder per writer. Every slip goes through the slip function's
``embed_slip`` (checks, pre-processing, features, ONNX embedding; timed), then the slips are
linked with the runtime ``chalicelib.domain.writer_linking.link_batch`` and the shipped settings,
starting from an empty gallery, in several random arrival orders. Nothing is fitted here.
Printed: retrieval top-1 / mAP / ROC AUC, pairwise precision and recall, B-cubed, adjusted Rand,
writers found vs true, candidate links raised (and how many point to the right writer), the worst
order's precision, rejected slips, and time per slip.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from chalicelib.domain.writer_linking import LinkSettings
from training.handwriting.dataset import slip_files
from training.handwriting.metrics import linking_metrics, retrieval_metrics


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", required=True, type=Path, help="folder with one sub-folder of slips per writer")
    ap.add_argument("--orders", type=int, default=10, help="random arrival orders to average over")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args(argv)

    from functions.slip_scoring import embedder
    from functions.slip_scoring.pipeline import SlipRejected, embed_slip

    settings = LinkSettings.load()
    files = slip_files(args.path)
    if not files:
        raise SystemExit(f"no slips under {args.path}")
    embedder.session()  # model load is a cold-start cost, not a per-slip one
    vecs, labels, times, rejected = [], [], [], []
    for f in files:
        data = f.read_bytes()
        t = time.perf_counter()
        try:
            e = embed_slip(data)
        except SlipRejected as exc:
            rejected.append(f"{f.parent.name}/{f.name}: {exc.reason}")
            continue
        finally:
            times.append((time.perf_counter() - t) * 1000)
        vecs.append(e.vector)
        labels.append(f.parent.name)
    emb = np.asarray(vecs, np.float64)
    figures = {
        "slips": len(files),
        "rejected": len(rejected),
        "writers": len(set(labels)),
        "model_version": settings.model_version,
        "ms_per_slip_p50": round(float(np.percentile(times, 50)), 1),
        "ms_per_slip_p95": round(float(np.percentile(times, 95)), 1),
        **retrieval_metrics(emb, labels),
        **linking_metrics(emb, labels, settings, args.orders, args.seed),
    }
    if args.json:
        print(json.dumps(figures))
        return
    for r in rejected:
        print(f"REJECTED {r}")
    print(f"{figures['slips']} slips ({figures['rejected']} rejected), {figures['writers']} writers, "
          f"model {settings.model_version}, {args.orders} arrival orders from an empty gallery")  # fmt: skip
    rows = [
        ("retrieval top-1 / mAP / ROC AUC", f"{figures['top1']:.3f} / {figures['mAP']:.3f} / {figures['roc_auc']:.3f}"),
        ("pairwise precision / recall", f"{figures['pairwise_precision']:.3f} / {figures['pairwise_recall']:.3f}"),
        ("  worst order's precision", f"{figures['worst_order_precision']:.3f}"),
        ("B-cubed precision / recall / F1",
         f"{figures['bcubed_precision']:.3f} / {figures['bcubed_recall']:.3f} / {figures['bcubed_f1']:.3f}"),
        ("adjusted Rand", f"{figures['adjusted_rand']:.3f}"),
        ("writers found / true", f"{figures['writers_found']:.1f} / {figures['writers_true']}"),
        ("candidate links raised (right)", f"{figures['candidates']:.1f} ({figures['candidates_right']:.1f})"),
        ("time per slip p50 / p95", f"{figures['ms_per_slip_p50']} ms / {figures['ms_per_slip_p95']} ms"),
    ]  # fmt: skip
    for k, v in rows:
        print(f"  {k:34s} {v}")


if __name__ == "__main__":
    main()
