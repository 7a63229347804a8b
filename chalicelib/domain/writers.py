"""Staff decisions about writers: tagging a writer to a customer, merging two writers, splitting
slips off a writer. Merges and splits move slips one at a time as an idempotent job (a writer with
many slips would exceed DynamoDB's 100-item transactions); the writers are then recomputed from
their slips' embeddings (domain.writer_linking)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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
