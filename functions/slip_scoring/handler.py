"""Slip-scoring Lambda: S3 ObjectCreated (via SQS) -> check, pre-process, embed -> clustering queue.

Packaged on its own (OpenCV + onnxruntime + numpy) together with the light `chalicelib` modules it
uses (core, domain.slips, the slips adapter, services.slip_processing). The use case and its
idempotency live in `chalicelib/services/slip_processing.py`; this module parses the event
(Powertools parser models), wires the adapters and reports partial batch failures.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from chalicelib.core import observability as obs
from chalicelib.core.observability import logger
from chalicelib.domain.slips import S3ObjectRef, SlipLimits
from chalicelib.services.slip_processing import SlipProcessor
from functions.slip_scoring.pipeline import SlipRejected, embed_slip


class S3TestEvent(BaseModel):
    """What S3 sends once when a notification is configured."""

    Event: Literal["s3:TestEvent"]


# The fields of an S3 event notification this function reads. Powertools' S3Model also requires
# userIdentity, requestParameters, ... which real S3 sends but moto and LocalStack leave out.
class S3ObjectPart(BaseModel):
    key: str = Field(min_length=1)
    size: int = Field(default=0, ge=0)
    eTag: str | None = None


class S3BucketPart(BaseModel):
    name: str = Field(min_length=1)


class S3Part(BaseModel):
    bucket: S3BucketPart
    object: S3ObjectPart


class S3Record(BaseModel):
    eventName: str
    s3: S3Part


class S3Notification(BaseModel):
    Records: list[S3Record]


class SlipUploadRecord(SqsRecordModel):
    body: Json[S3Notification | S3TestEvent]  # type: ignore[assignment]


_processor: SlipProcessor | None = None


def processor() -> SlipProcessor:
    """Adapters built once per container from the settings."""
    global _processor
    if _processor is None:
        from chalicelib.adapters.dynamodb.client import Dynamo
        from chalicelib.adapters.dynamodb.slips import DynamoSlipStore
        from chalicelib.adapters.s3 import S3FileStore
        from chalicelib.adapters.sqs import SqsQueue
        from chalicelib.core import aws
        from chalicelib.core.config import settings

        cfg = settings()
        limits = SlipLimits(cfg.slip_max_bytes, cfg.slip_min_bytes, cfg.slip_max_pixels, cfg.slip_min_side)
        _processor = SlipProcessor(
            slips=DynamoSlipStore(Dynamo(aws.client("dynamodb")), cfg.tables),
            files=S3FileStore(aws.client("s3")),
            queue=SqsQueue(aws.client("sqs"), cfg.queues),
            embed=embed_slip,
            limits=limits,
            refused=SlipRejected,
        )
    return _processor


def objects(record: SlipUploadRecord) -> list[S3ObjectRef]:
    body = record.body
    if isinstance(body, S3TestEvent):
        return []
    return [
        S3ObjectRef(
            bucket=r.s3.bucket.name,
            key=unquote_plus(obj.key),
            size=int(obj.size or 0),
            etag=obj.eTag,
        )
        for r in body.Records
        if r.eventName.startswith("ObjectCreated") and (obj := r.s3.object)
    ]


def _record_handler(record: SlipUploadRecord) -> None:
    logger.set_correlation_id(record.messageId)
    for ref in objects(record):
        processor().process(ref)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    batch = BatchProcessor(event_type=EventType.SQS, model=SlipUploadRecord)
    try:
        return dict(
            process_partial_response(event=event, record_handler=_record_handler, processor=batch, context=context)
        )
    finally:
        obs.flush()
