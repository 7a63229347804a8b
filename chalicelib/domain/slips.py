"""Slips and their lifecycle: awaiting_upload -> embedded -> clustered, or rejected.

One slip per bet; a rejected slip may be uploaded again. The object key of an upload is
`slips/<bet id>/<upload id>` (the contract of the presigned POST and the S3 notification).
Shared by the Chalice app and the slip function: pydantic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

OBJECT_PREFIX = "slips/"


class SlipStatus(StrEnum):
    awaiting_upload = "awaiting_upload"
    embedded = "embedded"
    clustered = "clustered"
    rejected = "rejected"


FINAL = (SlipStatus.embedded, SlipStatus.clustered)


class SlipRecord(BaseModel):
    bet_id: str
    status: SlipStatus
    object_key: str
    reason: str | None = None
    writer_id: str | None = None
    similarity: float | None = None
    etag: str | None = None
    model_version: str | None = None
    link: dict[str, Any] | None = None  # how it was linked: action, score, reason, candidate_of
    pinned: bool = False  # placed by staff (a merge or split): clustering leaves it
    updated_at: str


class ClusteringMessage(BaseModel):
    """Body of a message on the slip-clustering queue."""

    bet_id: str
    object_key: str
    embedding: list[float] = Field(min_length=4, max_length=4096)
    model_version: str


class S3ObjectRef(BaseModel):
    bucket: str
    key: str
    size: int = 0
    etag: str | None = None


@dataclass(frozen=True)
class SlipLimits:
    """What the slip function accepts (from Settings: the defaults are written there once)."""

    max_bytes: int
    min_bytes: int
    max_pixels: int
    min_side: int


def object_key(bet_id: str, upload_id: str) -> str:
    return f"{OBJECT_PREFIX}{bet_id}/{upload_id}"


def bet_id_from_key(key: str) -> str | None:
    parts = key.split("/")
    return parts[1] if len(parts) == 3 and parts[0] + "/" == OBJECT_PREFIX and parts[1] else None
