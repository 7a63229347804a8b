"""Slip-scoring Lambda: S3 ObjectCreated (via SQS) -> check, pre-process, embed -> clustering queue.

Packaged on its own (OpenCV + onnxruntime + numpy) together with the light `chalicelib` modules it
uses (config, aws, slips). Idempotent: a slip record moves out of `awaiting_upload` once, so a
repeated S3 event neither re-embeds nor double-sends (an `embedded` slip is re-sent, harmlessly,
in case the first send was lost).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import aws, slips
from chalicelib.config import settings
from functions.slip_scoring.pipeline import SlipLimits, SlipRejected, embed_slip

logger = Logger(service="betwatch-slip-scoring")
processor = BatchProcessor(event_type=EventType.SQS)


def _limits() -> SlipLimits:
    cfg = settings()
    return SlipLimits(
        max_bytes=cfg.slip_max_bytes,
        min_bytes=cfg.slip_min_bytes,
        max_pixels=cfg.slip_max_pixels,
        min_side=cfg.slip_min_side,
    )


def _objects(body: dict[str, Any]) -> list[slips.S3ObjectRef]:
    if body.get("Event") == "s3:TestEvent":
        return []
    refs = []
    for rec in body.get("Records", []):
        if not str(rec.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = rec["s3"]
        refs.append(
            slips.S3ObjectRef(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                size=int(s3["object"].get("size", 0)),
                etag=s3["object"].get("eTag"),
            )
        )
    return refs


def process_object(ref: slips.S3ObjectRef) -> str:
    """Handle one uploaded object; returns what was done (for logs and tests)."""
    bet_id = slips.bet_id_from_key(ref.key)
    record = slips.get(bet_id) if bet_id else None
    if bet_id is None or record is None or record.object_key != ref.key:
        logger.warning("ignoring object that no slip is awaiting", extra={"key": ref.key})
        return "ignored"
    if record.status == slips.SlipStatus.embedded:
        if msg := slips.clustering_message(bet_id):
            slips.send_for_clustering(msg)
        return "resent"
    if record.status != slips.SlipStatus.awaiting_upload:
        return "duplicate"
    limits = _limits()
    if ref.size > limits.max_bytes:
        slips.mark_rejected(
            bet_id,
            ref.key,
            f"file is {ref.size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB limit",
            ref.etag,
        )
        return "rejected"
    obj = aws.client("s3").get_object(Bucket=ref.bucket, Key=ref.key)
    data = obj["Body"].read(limits.max_bytes + 1)
    try:
        emb = embed_slip(data, limits)
    except SlipRejected as exc:
        slips.mark_rejected(bet_id, ref.key, exc.reason, ref.etag)
        logger.info("slip rejected", extra={"bet_id": bet_id, "reason": exc.reason})
        return "rejected"
    if slips.mark_embedded(bet_id, ref.key, emb.vector, emb.model_version, ref.etag):
        slips.send_for_clustering(
            slips.ClusteringMessage(
                bet_id=bet_id, object_key=ref.key, embedding=emb.vector, model_version=emb.model_version
            )
        )
        return "embedded"
    return "duplicate"


def _record_handler(record: SQSRecord) -> None:
    for ref in _objects(json.loads(record.body)):
        process_object(ref)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)
    )
