"""Customer segments: nearest centroid of an offline KMeans on scaled per-customer features.

The centroids, the scaler and each segment's name, description and stake distribution live in
``chalicelib/models/risk_segments.json`` (written by ``training.risk.train``). A subject's segment
is recomputed from its history on every bet, so it follows the customer as the history grows; with
fewer than ``min_bets`` past bets it is None. Pure numpy.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.risk.features import PROFILE_NAMES, Summary, profile_vector, summarise

SEGMENTS_PATH = Path(__file__).parent.parent / "models" / "risk_segments.json"


@dataclass(frozen=True)
class Segment:
    id: int
    name: str
    description: str
    customers: int
    log_stake_mean: float  # of the segment's bets (log of major units + 1)
    log_stake_std: float


class SegmentModel:
    def __init__(self, doc: dict[str, Any]) -> None:
        if doc["profile_names"] != PROFILE_NAMES:
            raise RuntimeError("risk_segments.json profile names do not match chalicelib.risk.features")
        self.doc = doc
        self.min_bets = int(doc["min_bets"])
        self.mean = np.asarray(doc["scaler_mean"], dtype=np.float64)
        self.scale = np.asarray(doc["scaler_scale"], dtype=np.float64)
        self.centroids = np.asarray(doc["centroids"], dtype=np.float64)
        self.segments = [Segment(**s) for s in doc["segments"]]

    @classmethod
    def from_file(cls, path: Path = SEGMENTS_PATH) -> SegmentModel:
        return cls(json.loads(path.read_text()))

    @property
    def k(self) -> int:
        return len(self.segments)

    def assign(self, summary: Summary) -> int | None:
        if summary.n < self.min_bets:
            return None
        z = (np.asarray(profile_vector(summary)) - self.mean) / self.scale
        return int(np.argmin(((self.centroids - z) ** 2).sum(axis=1)))

    def stats(self, segment: int | None) -> tuple[float, float] | None:
        if segment is None:
            return None
        s = self.segments[segment]
        return s.log_stake_mean, s.log_stake_std


_lock = threading.Lock()
_model: SegmentModel | None = None


def model() -> SegmentModel:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = SegmentModel.from_file()
    return _model


def segment_of(history: SubjectHistory, segments: SegmentModel | None = None) -> int | None:
    """The subject's segment from its history (None: fewer than ``min_bets`` past bets)."""
    return (segments or model()).assign(summarise(None, history))


def describe(segment: int | None) -> dict[str, Any] | None:
    """Name and description of a segment, for customer profiles and reports."""
    if segment is None:
        return None
    s = model().segments[segment]
    return {"segment": s.id, "name": s.name, "description": s.description}


def catalogue() -> list[dict[str, Any]]:
    """Every segment with its name, description and training size (for reports)."""
    return [
        {"segment": s.id, "name": s.name, "description": s.description, "customers": s.customers}
        for s in model().segments
    ]


def matches(rule_segments: list[int] | None, segment: int | None) -> bool:
    """Whether a rule scoped to ``rule_segments`` (None: every subject) applies to ``segment``."""
    return rule_segments is None or (segment is not None and segment in rule_segments)


__all__ = ["Segment", "SegmentModel", "catalogue", "describe", "matches", "model", "segment_of"]
