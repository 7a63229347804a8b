"""Processing an uploaded slip (the slip function's use case): check, embed, queue for clustering.

Idempotent: a slip record leaves `awaiting_upload` once, so a repeated S3 event neither re-embeds
nor double-sends (an `embedded` slip is re-sent, harmlessly, in case the first send was lost).
The embedding itself (OpenCV + ONNX) is injected: this module imports neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.slips import ClusteringMessage, S3ObjectRef, SlipLimits, SlipStatus, bet_id_from_key
from chalicelib.ports import FileStore, MessageQueue, SlipStore

CLUSTERING_QUEUE = "slip-clustering"


class Embedding(Protocol):
    @property
    def vector(self) -> list[float]: ...

    @property
    def model_version(self) -> str: ...


class SlipRefused(Exception):
    """The slip cannot be used; `reason` is what staff read, `code` a short metric dimension."""

    def __init__(self, reason: str, code: str = "unusable"):
        super().__init__(reason)
        self.reason, self.code = reason, code


MIB = 1024 * 1024


def mib(n: float) -> str:
    """Sizes in the unit the limits are set in (binary megabytes): "8 MiB", "8.4 MiB"."""
    return f"{int(n) // MIB} MiB" if n % MIB == 0 else f"{n / MIB:.1f} MiB"


def over_limit(size: int, limit: int) -> str:
    # Exact bytes when the rounded sizes would read the same ("8.0 MiB, over the 8 MiB limit").
    shown = mib(size) if mib(size) not in (mib(limit), f"{limit / MIB:.1f} MiB") else f"{size:,} bytes"
    return f"file is {shown}, over the {mib(limit)} ({limit:,} bytes) limit"


@dataclass
class SlipProcessor:
    slips: SlipStore
    files: FileStore
    queue: MessageQueue
    embed: Callable[[bytes, SlipLimits | None], Embedding]
    limits: SlipLimits
    refused: type[Exception] = SlipRefused
    clock: Clock = utcnow

    def process(self, ref: S3ObjectRef) -> str:
        """Handle one uploaded object; returns what was done (for logs, metrics and tests)."""
        bet_id = bet_id_from_key(ref.key)
        record = self.slips.get(bet_id) if bet_id else None
        if bet_id is None or record is None:
            logger.warning("ignoring object that is no bet's slip", extra={"key": ref.key})
            return "ignored"
        if record.status != SlipStatus.awaiting_upload and record.object_key != ref.key:
            # Another object of this bet (through an earlier or later presigned POST) is its slip already.
            obs.count_by(obs.SLIPS_REJECTED, reason="superseded")
            logger.warning(
                "object not used: the bet's slip is another upload",
                extra={"bet_id": bet_id, "key": ref.key, "slip_key": record.object_key, "status": record.status},
            )
            return "superseded"
        if record.status == SlipStatus.embedded:
            if msg := self.slips.clustering_message(bet_id):
                self.queue.send(CLUSTERING_QUEUE, msg.model_dump_json())
            return "resent"
        if record.status != SlipStatus.awaiting_upload:
            return "duplicate"
        # Awaiting: any object under the bet's prefix is its slip, whichever presigned POST it came through.
        if ref.size > self.limits.max_bytes:
            reason = over_limit(ref.size, self.limits.max_bytes)
            return self._reject(bet_id, ref, reason, "too_large")
        data = self.files.read(ref.bucket, ref.key, self.limits.max_bytes)
        try:
            emb = self.embed(data, self.limits)
        except self.refused as exc:
            reason = str(getattr(exc, "reason", exc))
            return self._reject(bet_id, ref, reason, str(getattr(exc, "code", "unusable")))
        if not self.slips.mark_embedded(bet_id, ref.key, emb.vector, emb.model_version, ref.etag, self.clock()):
            return "duplicate"
        msg = ClusteringMessage(
            bet_id=bet_id, object_key=ref.key, embedding=emb.vector, model_version=emb.model_version
        )
        self.queue.send(CLUSTERING_QUEUE, msg.model_dump_json())
        obs.count(obs.SLIPS_PROCESSED)
        logger.info("slip embedded", extra={"bet_id": bet_id, "model_version": emb.model_version})
        return "embedded"

    def _reject(self, bet_id: str, ref: S3ObjectRef, reason: str, code: str) -> str:
        # The object stays in the bucket for audit; the message is not retried.
        if not self.slips.mark_rejected(bet_id, ref.key, reason, ref.etag, self.clock()):
            return "duplicate"
        obs.count(obs.SLIPS_PROCESSED)
        obs.count_by(obs.SLIPS_REJECTED, reason=code)
        logger.info("slip rejected", extra={"bet_id": bet_id, "reason": reason})
        return "rejected"
