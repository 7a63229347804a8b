"""Feature datasets for training: synthetic slips (fonts, Hershey writers) and real scans.

Every slip goes through the runtime pre-processing and feature extraction, so training sees what
the slip function computes. Features are cached in ``training/.cache`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parents[1] / ".cache"
N_TEST_FONTS = 8
SLIPS_PER_FONT = 28
SLIPGEN_TRAIN = range(1000, 1020)
SLIPGEN_HELDOUT = range(1, 9)
SLIPS_PER_SLIPGEN = 12
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def font_split(names: list[str], seed: int) -> tuple[list[str], list[str]]:
    """(train, test) font writers; the test fonts are never used in a fit."""
    rng = np.random.default_rng(seed)
    perm = [names[i] for i in rng.permutation(len(names))]
    return perm[N_TEST_FONTS:], perm[:N_TEST_FONTS]


def _slip_features(data: bytes) -> np.ndarray:
    from functions.slip_scoring.features import extract_features
    from functions.slip_scoring.pipeline import decode_slip
    from functions.slip_scoring.preprocess import extract_handwriting

    return extract_features(extract_handwriting(decode_slip(data)).ink)


def _features_task(task: tuple[str, str, str, int, int]) -> np.ndarray | None:
    kind, name, path, seed, slip = task
    from functions.slip_scoring.preprocess import NoHandwriting

    if kind == "font":
        from training.handwriting.render import WriterStyle, render_slip

        data = render_slip(WriterStyle.for_font(name, Path(path), seed), slip)
    else:
        from local.slipgen import make_slip

        data = make_slip(int(name), slip)
    try:
        return _slip_features(data)
    except NoHandwriting:
        return None


SLIPGEN_VERSION = "v2"  # bump when local.slipgen draws differently (the cache key cannot see it)


def _cached(name: str, tasks: list[tuple[str, str, str, int, int]], workers: int) -> tuple[np.ndarray, list[str]]:
    key = hashlib.sha1(json.dumps([t[:2] + t[3:] for t in tasks]).encode()).hexdigest()[:12]
    cache = CACHE / f"features-{name}-{key}.npz"
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
    print(f"{name} features: {len(X)}/{len(tasks)} slips in {time.time() - t0:.0f}s")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, X=np.asarray(X, np.float32).reshape(-1, _n_features()), y=np.asarray(y))
    return np.asarray(X, np.float32).reshape(-1, _n_features()), y


def _n_features() -> int:
    from functions.slip_scoring.features import N_FEATURES

    return N_FEATURES


def build_dataset(seed: int, fonts: dict[str, Path], workers: int) -> tuple[np.ndarray, list[str]]:
    """Features and ``kind:writer`` labels of every synthetic slip (cached per kind)."""
    font_tasks = [("font", n, str(p), seed, s) for n, p in fonts.items() for s in range(SLIPS_PER_FONT)]
    sg_tasks = [
        ("slipgen", str(w), "", seed, s) for w in [*SLIPGEN_TRAIN, *SLIPGEN_HELDOUT] for s in range(SLIPS_PER_SLIPGEN)
    ]
    xf, yf = _cached("font", font_tasks, workers)
    xg, yg = _cached(f"slipgen-{SLIPGEN_VERSION}", sg_tasks, workers)
    return np.vstack([xf, xg]), [*yf, *yg]


def slip_files(path: Path) -> list[Path]:
    """Every image in the writer sub-folders of ``path`` (sorted)."""
    return sorted(f for f in Path(path).glob("*/*") if f.suffix.lower() in IMAGE_SUFFIXES)


def real_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features and writer (sub-folder) labels of real slips; cached by file names and sizes."""
    files = slip_files(path)
    if not files:
        raise SystemExit(f"no slips under {path} (expected writer sub-folders of .jpg/.png)")
    key = hashlib.sha1(json.dumps([[f.parent.name, f.name, f.stat().st_size] for f in files]).encode()).hexdigest()
    cache = CACHE / f"real-{key[:12]}.npz"
    if cache.exists():
        d = np.load(cache)
        return d["X"], d["y"]
    X = np.asarray([_slip_features(f.read_bytes()) for f in files], np.float32)
    y = np.asarray([f.parent.name for f in files])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, X=X, y=y)
    return X, y
