"""Slip uploads as clients see them: a bounded presigned POST per bet, and the slip's status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.slips import SlipRecord, object_key
from chalicelib.ports import BetStore, FileStore, SlipStore


@dataclass(frozen=True)
class UploadLimits:
    bucket: str
    min_bytes: int
    max_bytes: int
    expires_s: int


class SlipUploads:
    def __init__(self, slips: SlipStore, bets: BetStore, files: FileStore, limits: UploadLimits, clock: Clock = utcnow):
        self.slips, self.bets, self.files = slips, bets, files
        self.limits = limits
        self.clock = clock

    def start(self, bet_id: str, content_type: str, may_read: Callable[[str], bool] | None = None) -> dict[str, Any]:
        """Reserve an object key for the bet's slip and presign a bounded S3 POST for it.
        `may_read(ingested_by)`: whether the caller may see this bet (else it is not found)."""
        stored = self.bets.get(bet_id)
        if stored is None or (may_read is not None and not may_read(stored.bet.ingested_by)):
            raise NotFound(f"bet {bet_id} not found")
        key = object_key(bet_id, uuid.uuid4().hex)
        if not self.slips.reserve_upload(bet_id, key, self.clock()):
            raise Conflict(f"the slip of bet {bet_id} is already processed")
        lim = self.limits
        post = self.files.presign_post(lim.bucket, key, content_type, lim.min_bytes, lim.max_bytes, lim.expires_s)
        return {**post, "object_key": key, "max_bytes": lim.max_bytes, "expires_in": lim.expires_s}

    def image_url(self, bet_id: str, expires_s: int = 120) -> dict[str, Any]:
        """A short-lived URL of the slip's image, for staff's thumbnails."""
        record = self.status(bet_id)
        if record.status.value == "awaiting_upload":
            raise NotFound(f"the slip of bet {bet_id} has not been uploaded")
        return {
            "url": self.files.presign_get(self.limits.bucket, record.object_key, expires_s),
            "expires_in": expires_s,
        }

    def image_origin(self) -> str | None:
        """Where image_url's links point (scheme://host[:port]), for the staff page's CSP; signing
        a URL is local work (no request)."""
        url = self.files.presign_get(self.limits.bucket, "slips/origin", 60)
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    def status(self, bet_id: str) -> SlipRecord:
        record = self.slips.get(bet_id)
        if record is None:
            raise NotFound(f"slip of bet {bet_id} not found")
        return record
