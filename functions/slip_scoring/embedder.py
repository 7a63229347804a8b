"""ONNX handwriting embedder: feature vector -> L2-normalised writer embedding.

The ONNX session is created once per process, lazily, from ``model/handwriting.onnx``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_PATH = MODEL_DIR / "handwriting.onnx"
META_PATH = MODEL_DIR / "handwriting.json"

_lock = threading.Lock()
_session: Any = None
_meta: dict[str, Any] | None = None


def metadata() -> dict[str, Any]:
    global _meta
    if _meta is None:
        _meta = json.loads(META_PATH.read_text())
    return _meta


def session() -> Any:
    """The process-wide onnxruntime InferenceSession (created on first use)."""
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1
                opts.inter_op_num_threads = 1
                _session = ort.InferenceSession(str(MODEL_PATH), sess_options=opts, providers=["CPUExecutionProvider"])
    return _session


def model_version() -> str:
    return str(metadata()["model_version"])


def embed_features(features: np.ndarray) -> np.ndarray:
    """(F,) or (N, F) features -> (N, D) float32 L2-normalised embeddings."""
    x = np.atleast_2d(np.asarray(features, np.float32))
    sess = session()
    out = sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float32)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return np.asarray(out / np.maximum(norm, 1e-12), np.float32)
