"""Train the handwriting (writer) embedding and the open-set matching threshold.

    python -m training.handwriting.fonts            # once: fetch OFL fonts via npm
    python -m training.handwriting.train --seed 7

Writers are split (disjoint) into train / validation / test.  Train: font writers plus
Hershey-style ``local.slipgen`` writers (seeds >= 1000).  Validation font writers choose the
threshold; test font writers (never seen in training) give the reported metrics.
The fitted pipeline is exported with skl2onnx (``training/handwriting/export.py``: a custom
converter for the LDA projection). Outputs: functions/slip_scoring/model/handwriting.{onnx,json}
and chalicelib/models/writer_matching.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
import skl2onnx
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from training.handwriting.evaluate import averaged_clustering, verification_metrics
from training.handwriting.export import TARGET_OPSET, export_onnx

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "functions" / "slip_scoring" / "model"
MATCHING_JSON = ROOT / "chalicelib" / "models" / "writer_matching.json"
CACHE = ROOT / "training" / ".cache"

N_TEST, N_VAL = 8, 8
SLIPS_PER_FONT = 28
SLIPGEN_TRAIN = range(1000, 1020)
SLIPGEN_HELDOUT = range(1, 9)
SLIPS_PER_SLIPGEN = 12


def _features_task(task: tuple[str, str, str, int, int]) -> np.ndarray | None:
    kind, name, path, seed, slip = task
    from functions.slip_scoring.features import extract_features
    from functions.slip_scoring.pipeline import decode_slip
    from functions.slip_scoring.preprocess import NoHandwriting, extract_handwriting

    if kind == "font":
        from training.handwriting.render import WriterStyle, render_slip

        data = render_slip(WriterStyle.for_font(name, Path(path), seed), slip)
    else:
        from local.slipgen import make_slip

        data = make_slip(int(name), slip)
    try:
        return extract_features(extract_handwriting(decode_slip(data)).ink)
    except NoHandwriting:
        return None


def build_dataset(seed: int, fonts: dict[str, Path], workers: int) -> tuple[np.ndarray, list[str]]:
    tasks = [("font", n, str(p), seed, s) for n, p in fonts.items() for s in range(SLIPS_PER_FONT)]
    tasks += [
        ("slipgen", str(w), "", seed, s) for w in [*SLIPGEN_TRAIN, *SLIPGEN_HELDOUT] for s in range(SLIPS_PER_SLIPGEN)
    ]
    key = hashlib.sha1(json.dumps([t[:2] + t[3:] for t in tasks]).encode()).hexdigest()[:12]
    cache = CACHE / f"features-{key}.npz"
    if cache.exists():
        d = np.load(cache)
        return d["X"], [str(x) for x in d["y"]]
    t0 = time.time()
    with Pool(workers) as pool:
        feats = pool.map(_features_task, tasks, chunksize=8)
    X, y = [], []
    for t, f in zip(tasks, feats, strict=True):
        if f is not None:
            X.append(f)
            y.append(f"{t[0]}:{t[1]}")
    print(f"features: {len(X)}/{len(tasks)} slips in {time.time() - t0:.0f}s")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, X=np.asarray(X, np.float32), y=np.asarray(y))
    return np.asarray(X, np.float32), y


def _unit(e: np.ndarray) -> np.ndarray:
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pca", type=int, default=120)
    args = ap.parse_args(argv)

    from functions.slip_scoring.features import FEATURE_NAMES, N_FEATURES
    from training.handwriting.fonts import fetch_fonts

    fonts = fetch_fonts()
    names = sorted(fonts)
    rng = np.random.default_rng(args.seed)
    perm = [names[i] for i in rng.permutation(len(names))]
    test_w, val_w, train_w = perm[:N_TEST], perm[N_TEST : N_TEST + N_VAL], perm[N_TEST + N_VAL :]
    print(f"{len(names)} font writers: train {len(train_w)}, val {len(val_w)}, test {len(test_w)}")

    X, y = build_dataset(args.seed, fonts, args.workers)
    ya = np.asarray(y)
    train_lab = {f"font:{n}" for n in train_w} | {f"slipgen:{s}" for s in SLIPGEN_TRAIN}
    tr = np.isin(ya, sorted(train_lab))
    va = np.isin(ya, [f"font:{n}" for n in val_w])
    te = np.isin(ya, [f"font:{n}" for n in test_w])
    sg = np.isin(ya, [f"slipgen:{s}" for s in SLIPGEN_HELDOUT])

    n_classes = len(set(ya[tr]))
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("pca", PCA(n_components=min(args.pca, int(tr.sum()) - 1), whiten=True, random_state=args.seed)),
            ("lda", LinearDiscriminantAnalysis(solver="eigen", shrinkage=0.2, n_components=n_classes - 1)),
        ]
    )
    t0 = time.time()
    pipe.fit(X[tr], ya[tr])
    print(f"fit on {int(tr.sum())} slips / {n_classes} writers in {time.time() - t0:.1f}s")

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    onnx_path = MODEL_DIR / "handwriting.onnx"
    export = export_onnx(pipe, N_FEATURES, onnx_path)
    import onnxruntime as ort

    skl_out = pipe.transform(X[te])
    proj_diff = float(np.max(np.abs(export.transform(X[te]) - skl_out)))
    assert proj_diff < 1e-9, f"LDAProjection differs from LinearDiscriminantAnalysis.transform: {proj_diff}"
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_out = sess.run(None, {"features": X[te]})[0]
    diff = float(np.max(np.abs(onnx_out - skl_out)))
    rel = diff / float(np.max(np.abs(skl_out)))
    assert rel < 1e-5, f"ONNX differs from sklearn: max abs diff {diff}"
    print(
        f"skl2onnx export (opset {TARGET_OPSET}): LDAProjection == LDA.transform (max abs diff {proj_diff:.1e}); "
        f"ONNX == sklearn on test: max abs diff {diff:.2e} (relative {rel:.1e}); {onnx_path.stat().st_size / 1024:.0f} KB"
    )

    def emb(mask: np.ndarray) -> np.ndarray:
        return _unit(sess.run(None, {"features": X[mask]})[0].astype(np.float64))

    e_val = emb(va)
    grid = np.round(np.arange(0.10, 0.99, 0.01), 2)
    scores = [(float(t), averaged_clustering(e_val, ya[va], float(t), 3, args.seed)) for t in grid]
    threshold, val_metrics = max(scores, key=lambda s: (s[1]["pairwise_f1"], s[1]["adjusted_rand"]))
    print(f"threshold {threshold:.2f} chosen on validation writers: {val_metrics}")

    def held_out(mask: np.ndarray, n_writers: int) -> dict[str, Any]:
        e = emb(mask)
        return {
            "verification": verification_metrics(e, ya[mask]),
            "clustering": averaged_clustering(e, ya[mask], threshold, 5, args.seed),
            "n_slips": int(mask.sum()),
            "n_writers": n_writers,
        }

    test_metrics = held_out(te, len(test_w))
    slipgen_metrics = held_out(sg, len(SLIPGEN_HELDOUT))
    print("TEST (held-out font writers):", json.dumps(test_metrics))
    print("held-out slipgen writers:", json.dumps(slipgen_metrics))

    dim = int(skl_out.shape[1])
    version = f"hw-lda-{dim}d-s{args.seed}-" + hashlib.sha1(onnx_path.read_bytes()).hexdigest()[:8]
    meta = {
        "model_version": version,
        "input": "features",
        "output": "embedding",
        "dim": dim,
        "n_features": N_FEATURES,
        "feature_names": list(FEATURE_NAMES),
        "seed": args.seed,
        "pipeline": f"StandardScaler -> PCA({pipe.named_steps['pca'].n_components_}, whiten) -> LDA(eigen, shrinkage 0.2)",
        "export": {"tool": "skl2onnx", "skl2onnx": skl2onnx.__version__, "onnx_opset": TARGET_OPSET},
        "writers": {"train": train_w, "validation": val_w, "test": test_w, "slipgen_train_seeds": list(SLIPGEN_TRAIN)},
        "slips_per_font_writer": SLIPS_PER_FONT,
        "threshold": threshold,
        "metrics": {"validation": val_metrics, "test": test_metrics, "slipgen_heldout": slipgen_metrics},
    }
    (MODEL_DIR / "handwriting.json").write_text(json.dumps(meta, indent=1) + "\n")
    MATCHING_JSON.parent.mkdir(parents=True, exist_ok=True)
    MATCHING_JSON.write_text(
        json.dumps({"threshold": threshold, "model_version": version, "dim": dim}, indent=1) + "\n"
    )
    print(f"wrote {onnx_path}, handwriting.json, {MATCHING_JSON}")


if __name__ == "__main__":
    main()
