"""Staff decisions about writers: tagging a writer to a customer, merging two writers, splitting
slips off a writer. Merges and splits move slips one at a time as an idempotent job (a writer with
many slips would exceed DynamoDB's 100-item transactions), and the centroids follow (pure math)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, Field


class JobKind(StrEnum):
    merge = "merge"  # every slip of `source` moves to `target`; `source` is retired
    split_off = "split"  # the listed slips of `source` move to a new writer `target`


class JobState(StrEnum):
    running = "running"
    done = "done"


class WriterJob(BaseModel):
    job_id: str
    kind: JobKind
    source: str  # writer id
    target: str  # writer id
    # Both writers' centroids when the job started: finishing twice gives the same result.
    source_centroid: list[float] = Field(default_factory=list)
    source_n: int = 0
    target_centroid: list[float] = Field(default_factory=list)
    target_n: int = 0
    bet_ids: list[str] = Field(description="The slips (bet ids) to move, fixed when the job starts.")
    moved: int = Field(default=0, description="How many of bet_ids are done (a resumed job starts there).")
    state: JobState = JobState.running
    actor: str
    created_at: datetime
    finished_at: datetime | None = None
    note: str | None = None


class JobMessage(BaseModel):
    """Body of a message on the writer-jobs queue: do the job's next step."""

    job_id: str = Field(min_length=1, max_length=64)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def merged_centroid(a: list[float], n_a: int, b: list[float], n_b: int) -> list[float]:
    """The centroid of two writers' slips together (each centroid the mean of its slips' unit embeddings)."""
    total = np.asarray(a, np.float64) * n_a + np.asarray(b, np.float64) * n_b
    return [float(x) for x in _unit(total / max(n_a + n_b, 1))]


def mean_centroid(embeddings: list[list[float]]) -> list[float]:
    units = [_unit(np.asarray(e, np.float64)) for e in embeddings]
    return [float(x) for x in _unit(np.mean(units, axis=0))]


def remaining_centroid(c: list[float], n: int, removed: list[list[float]]) -> list[float]:
    """The centroid after `removed` slips leave a writer of `n` slips with centroid `c`."""
    left = n - len(removed)
    if left <= 0:
        return [float(x) for x in c]
    total = np.asarray(c, np.float64) * n - sum(_unit(np.asarray(e, np.float64)) for e in removed)
    return [float(x) for x in _unit(total / left)]
