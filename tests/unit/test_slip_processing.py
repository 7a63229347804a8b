"""The slip function's use case on in-memory stores: embed once, reject with a reason in the
units of the limits, ignore what no slip awaits, re-send an embedded slip, never re-embed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.slips import S3ObjectRef, SlipLimits
from chalicelib.services.slip_processing import CLUSTERING_QUEUE, SlipProcessor, SlipRefused

LIMITS = SlipLimits(max_bytes=8 * 1024 * 1024, min_bytes=10, max_pixels=40_000_000, min_side=200)
BUCKET = "slips-bucket"


@dataclass(frozen=True)
class Emb:
    vector: list[float]
    model_version: str = "m1"


class Embedder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes, limits: SlipLimits | None) -> Emb:
        self.calls += 1
        if data.startswith(b"GIF"):
            raise SlipRefused("not an image (could not decode JPEG/PNG)", "not_image")
        return Emb([0.5, 0.5, 0.5, 0.5])


@pytest.fixture
def proc() -> tuple[SlipProcessor, memory.MemorySlips, memory.MemoryFiles, memory.MemoryQueue, Embedder]:
    slips, files, queue, embed = memory.MemorySlips(), memory.MemoryFiles(), memory.MemoryQueue(), Embedder()
    return SlipProcessor(slips, files, queue, embed, LIMITS), slips, files, queue, embed


def upload(slips: memory.MemorySlips, files: memory.MemoryFiles, bet_id: str, data: bytes) -> S3ObjectRef:
    key = f"slips/{bet_id}/u1"
    slips.reserve_upload(bet_id, key, datetime.now(UTC))
    files.objects[(BUCKET, key)] = data
    return S3ObjectRef(bucket=BUCKET, key=key, size=len(data), etag="e")


def test_embeds_once_and_queues_for_clustering(proc: tuple) -> None:  # type: ignore[type-arg]
    p, slips, files, queue, embed = proc
    ref = upload(slips, files, "B1", b"\xff\xd8\xff" + b"0" * 100)
    assert p.process(ref) == "embedded"
    assert slips.get("B1").status == "embedded" and embed.calls == 1
    assert json.loads(queue.messages[CLUSTERING_QUEUE][0])["bet_id"] == "B1"
    # The same S3 event again: no second embedding, the message is re-sent (it may have been lost).
    assert p.process(ref) == "resent" and embed.calls == 1 and len(queue.messages[CLUSTERING_QUEUE]) == 2


def test_rejections_name_the_reason(proc: tuple) -> None:  # type: ignore[type-arg]
    p, slips, files, queue, embed = proc
    ref = upload(slips, files, "B2", b"GIF89a" * 10)
    assert p.process(ref) == "rejected"
    assert slips.get("B2").reason == "not an image (could not decode JPEG/PNG)"
    assert p.process(ref) == "duplicate" and embed.calls == 1
    big = upload(slips, files, "B3", b"x")
    big = big.model_copy(update={"size": 8 * 1024 * 1024 + 1})
    assert p.process(big) == "rejected" and embed.calls == 1  # refused from the event, never read
    assert slips.get("B3").reason == "file is 8,388,609 bytes, over the 8 MiB (8,388,608 bytes) limit"
    huge = upload(slips, files, "B5", b"x").model_copy(update={"size": 9 * 1024 * 1024})
    assert p.process(huge) == "rejected" and slips.get("B5").reason == (
        "file is 9 MiB, over the 8 MiB (8,388,608 bytes) limit"
    )
    assert queue.messages[CLUSTERING_QUEUE] == []


def test_objects_no_slip_awaits_are_ignored(proc: tuple) -> None:  # type: ignore[type-arg]
    p, slips, files, _, embed = proc
    assert p.process(S3ObjectRef(bucket=BUCKET, key="elsewhere/x.jpg")) == "ignored"
    assert p.process(S3ObjectRef(bucket=BUCKET, key="slips/NOBET/u1.jpg")) == "ignored"
    assert embed.calls == 0


def test_an_upload_through_an_older_presigned_post_is_still_the_slip(proc: tuple) -> None:  # type: ignore[type-arg]
    """A till asks for a second presigned POST, then uploads through the first: the slip is
    processed (never stuck in awaiting_upload); a later object for the same bet is not used."""
    p, slips, files, queue, embed = proc
    first = upload(slips, files, "B4", b"\xff\xd8\xff0000000000")
    slips.reserve_upload("B4", "slips/B4/u2", datetime.now(UTC))  # the second POST
    assert p.process(first) == "embedded"
    assert slips.get("B4").status == "embedded" and slips.get("B4").object_key == first.key
    assert json.loads(queue.messages[CLUSTERING_QUEUE][0])["object_key"] == first.key
    files.objects[(BUCKET, "slips/B4/u2")] = b"\xff\xd8\xff1111111111"
    second = S3ObjectRef(bucket=BUCKET, key="slips/B4/u2", size=13, etag="f")
    assert p.process(second) == "superseded" and embed.calls == 1
    assert slips.get("B4").object_key == first.key
