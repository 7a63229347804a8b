"""Open-set writer matching on handwriting embeddings (numpy only; runs in the Chalice app).

Embeddings are L2-normalised vectors from the slip-scoring function; similarity is the
cosine (dot product).  A writer is represented by the re-normalised running mean of the
embeddings of their slips.  ``THRESHOLD`` was chosen on held-out *validation* writers by
``training/handwriting/train.py`` and is stored in ``chalicelib/models/writer_matching.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CONFIG_PATH = Path(__file__).resolve().parent / "models" / "writer_matching.json"
CONFIG: dict[str, object] = json.loads(_CONFIG_PATH.read_text())
THRESHOLD: float = float(CONFIG["threshold"])  # type: ignore[arg-type]
MODEL_VERSION: str = str(CONFIG.get("model_version", ""))
DIM: int = int(CONFIG.get("dim", 0))  # type: ignore[call-overload]


@dataclass
class WriterCentroid:
    writer_id: str
    centroid: np.ndarray
    n: int


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64).ravel()
    norm = float(np.linalg.norm(v))
    if norm == 0.0 or not np.isfinite(norm):
        raise ValueError("embedding has zero or non-finite norm")
    return v / norm


def match(
    embedding: np.ndarray, writers: list[WriterCentroid], threshold: float = THRESHOLD
) -> tuple[str | None, float]:
    """Best writer id if its cosine similarity >= threshold else None, and the best similarity."""
    if not writers:
        return None, float("-inf")
    e = _unit(embedding)
    sims = np.stack([_unit(w.centroid) for w in writers]) @ e
    i = int(np.argmax(sims))
    best = float(sims[i])
    return (writers[i].writer_id if best >= threshold else None), best


def updated_centroid(c: WriterCentroid, embedding: np.ndarray) -> np.ndarray:
    """Running mean of the writer's (unit) embeddings including ``embedding``, re-normalised."""
    mean = (_unit(c.centroid) * c.n + _unit(embedding)) / (c.n + 1)
    return _unit(mean)


def assign_batch(
    embeddings: list[np.ndarray],
    writers: list[WriterCentroid],
    new_id: Callable[[], str],
    threshold: float = THRESHOLD,
) -> list[tuple[str, bool, float]]:
    """Sequential open-set assignment: (writer_id, is_new, similarity) per embedding.

    Matched writers get their centroid updated in place; unmatched slips create a new
    writer appended to ``writers`` (so later slips in the same batch can join it).
    """
    out: list[tuple[str, bool, float]] = []
    for emb in embeddings:
        wid, sim = match(emb, writers, threshold)
        if wid is None:
            wc = WriterCentroid(writer_id=new_id(), centroid=_unit(emb), n=1)
            writers.append(wc)
            out.append((wc.writer_id, True, sim))
            continue
        wc = next(w for w in writers if w.writer_id == wid)
        wc.centroid = updated_centroid(wc, emb)
        wc.n += 1
        out.append((wid, False, sim))
    return out
