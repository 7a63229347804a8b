"""Batch history imports: the job's progress (what `GET /imports/{id}` shows and where a chunk
resumes), the queue messages that drive it, and the S3 notification of the uploaded file."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.intake import S3Notification, S3TestEvent

__all__ = ["ImportJob", "ImportRequest", "ImportState", "ImportStep", "S3Notification", "S3TestEvent"]


class ImportState(StrEnum):
    pending = "pending"  # waiting for the upload
    running = "running"
    done = "done"
    failed = "failed"  # the file as a whole is not a history CSV (its header, a line over the limit)


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(default="history.csv", min_length=1, max_length=200, description="For people only.")
    raise_alerts: bool = Field(
        default=False, description="Evaluate the rules on the imported bets (default: history raises no alerts)."
    )


class ImportJob(BaseModel):
    import_id: str
    state: ImportState = ImportState.pending
    filename: str
    raise_alerts: bool = False
    created_by: str
    created_at: datetime
    updated_at: datetime
    object_key: str = Field(description="Where the CSV is uploaded.")
    # Where the next chunk starts: byte offset, rows and lines before it, and the header to parse with.
    next_chunk: int = 0
    offset: int = 0
    rows_before: int = 0
    lines_before: int = 0
    columns: list[str] = Field(default_factory=list, description="The header's columns (read by chunk 0).")
    eof: bool = Field(default=False, description="Every row has been read; the error CSV comes next.")
    rows_read: int = 0
    recorded: int = Field(default=0, description="Rows whose bet this import stored.")
    duplicates: int = Field(default=0, description="Rows whose bet was already stored, with the same details.")
    rejected: int = Field(default=0, description="Rows in the error CSV.")
    error_parts: list[int] = Field(default_factory=list, description="Chunks that rejected rows.")
    errors_key: str | None = None
    error: str | None = Field(default=None, description="Why the import failed as a whole.")


class ImportStep(BaseModel):
    """A queue message: process chunk `chunk` of the import (or, with `finalize`, write its error CSV)."""

    model_config = ConfigDict(extra="forbid")

    import_id: str = Field(pattern=r"^imp-[0-9a-f]{32}$")
    chunk: int = Field(ge=0)
    step: Literal["chunk", "finalize"] = "chunk"
