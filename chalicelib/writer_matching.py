"""Compatibility layer over ``chalicelib.domain.writer_linking`` for the current clustering
consumer (which stores one centroid and a count per writer). New code uses writer_linking.

``WriterCentroid.centroid`` is the *average* of the writer's unit embeddings (not re-normalised),
so the dot product with a slip is its average-linkage similarity. ``match`` joins only on a
"join" decision; a candidate becomes a new writer here (precision first) until candidate links
are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from chalicelib.domain import writer_linking as wl

SETTINGS = wl.LinkSettings.load()
THRESHOLD: float = SETTINGS.join_z  # the normalised score a join needs
MODEL_VERSION: str = SETTINGS.model_version
DIM: int = SETTINGS.dim


@dataclass
class WriterCentroid:
    writer_id: str
    centroid: np.ndarray
    n: int


def _states(writers: list[WriterCentroid]) -> list[wl.WriterState]:
    return [
        wl.WriterState(
            w.writer_id,
            np.asarray(w.centroid, np.float64),
            np.asarray(w.centroid, np.float64),
            max(int(w.n), 1),
            min(max(int(w.n), 1), SETTINGS.max_anchor),
            np.zeros((0, len(w.centroid))),
            max(int(w.n), 1),
        )
        for w in writers
    ]


def _settings(threshold: float | None) -> wl.LinkSettings:
    return SETTINGS if threshold is None else replace(SETTINGS, join_z=threshold)


def decide(embedding: np.ndarray, writers: list[WriterCentroid], threshold: float | None = None) -> wl.LinkDecision:
    # Centroids of another model (another dimension) say nothing about this embedding: skipped.
    dim = len(np.ravel(embedding))
    return wl.decide(embedding, _states([w for w in writers if len(w.centroid) == dim]), _settings(threshold))


def match(
    embedding: np.ndarray, writers: list[WriterCentroid], threshold: float | None = None
) -> tuple[str | None, float]:
    """The writer to join (None: a new writer) and the best normalised score."""
    d = decide(embedding, writers, threshold)
    return (d.writer_id if d.action == "join" else None), d.score


def updated_centroid(c: WriterCentroid, embedding: np.ndarray) -> np.ndarray:
    """Average of the writer's unit embeddings including ``embedding``."""
    return (np.asarray(c.centroid, np.float64) * c.n + wl.unit(embedding)) / (c.n + 1)


def assign_batch(
    embeddings: list[np.ndarray],
    writers: list[WriterCentroid],
    new_id: Callable[[], str],
    threshold: float | None = None,
) -> list[tuple[str, bool, float]]:
    """Sequential open-set assignment: (writer_id, is_new, score) per embedding; ``writers`` is
    updated in place (joined centroids, new writers appended)."""
    out: list[tuple[str, bool, float]] = []
    for emb in embeddings:
        wid, score = match(emb, writers, threshold)
        if wid is None:
            wc = WriterCentroid(writer_id=new_id(), centroid=wl.unit(emb), n=1)
            writers.append(wc)
            out.append((wc.writer_id, True, score))
            continue
        wc = next(w for w in writers if w.writer_id == wid)
        wc.centroid = updated_centroid(wc, emb)
        wc.n += 1
        out.append((wid, False, score))
    return out
