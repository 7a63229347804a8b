"""Slip records and their lifecycle: awaiting_upload -> embedded -> clustered, or rejected.

Shared by the Chalice app (presign, status, clustering) and the slip-scoring function, which is
packaged with this module: it needs only boto3 and pydantic.
Table `slips`: pk SLIP#<bet id>, one slip per bet; a rejected slip may be uploaded again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chalicelib import aws
from chalicelib.config import settings


class SlipStatus(StrEnum):
    awaiting_upload = "awaiting_upload"
    embedded = "embedded"
    clustered = "clustered"
    rejected = "rejected"


class SlipRecord(BaseModel):
    bet_id: str
    status: SlipStatus
    object_key: str
    reason: str | None = None
    writer_id: str | None = None
    similarity: float | None = None
    etag: str | None = None
    model_version: str | None = None
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


def _table() -> Any:
    return aws.dynamodb_table(settings().table("slips"))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def bet_id_from_key(key: str) -> str | None:
    parts = key.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "slips" and parts[1] else None


def get(bet_id: str) -> SlipRecord | None:
    item = _table().get_item(Key={"pk": f"SLIP#{bet_id}"}, ConsistentRead=True).get("Item")
    if not item:
        return None
    item.pop("pk")
    item.pop("embedding", None)
    if "similarity" in item:
        item["similarity"] = float(item["similarity"])
    return SlipRecord.model_validate(item)


def embedding(bet_id: str) -> list[float] | None:
    item = _table().get_item(Key={"pk": f"SLIP#{bet_id}"}, ProjectionExpression="embedding").get("Item")
    return [float(x) for x in item["embedding"]] if item and "embedding" in item else None


def start_upload(bet_id: str, content_type: str) -> dict[str, Any] | None:
    """Reserve an object key for the bet's slip and presign a bounded S3 POST for it.

    None when the bet's slip is already embedded or clustered (final)."""
    cfg = settings()
    key = f"slips/{bet_id}/{uuid.uuid4().hex}"
    try:
        _table().put_item(
            Item={
                "pk": f"SLIP#{bet_id}",
                "bet_id": bet_id,
                "status": SlipStatus.awaiting_upload.value,
                "object_key": key,
                "updated_at": _now(),
            },
            # A slip already embedded or clustered is final; a rejected or pending one may be replaced.
            ConditionExpression="attribute_not_exists(pk) OR #s IN (:w, :r)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":w": SlipStatus.awaiting_upload.value, ":r": SlipStatus.rejected.value},
        )
    except aws.client("dynamodb").exceptions.ConditionalCheckFailedException:
        return None
    post = aws.client("s3").generate_presigned_post(
        Bucket=cfg.bucket("slips"),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", cfg.slip_min_bytes, cfg.slip_max_bytes],
        ],
        ExpiresIn=cfg.presign_expires_s,
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "object_key": key,
        "max_bytes": cfg.slip_max_bytes,
        "expires_in": cfg.presign_expires_s,
    }


def mark_rejected(bet_id: str, key: str, reason: str, etag: str | None) -> bool:
    """Record why a slip was refused; the object stays in the bucket for audit."""
    return _transition(bet_id, key, SlipStatus.rejected, {"reason": reason, "etag": etag})


def mark_embedded(bet_id: str, key: str, vector: list[float], model_version: str, etag: str | None) -> bool:
    return _transition(
        bet_id,
        key,
        SlipStatus.embedded,
        {"embedding": [Decimal(f"{x:.6f}") for x in vector], "model_version": model_version, "etag": etag},
    )


def _transition(bet_id: str, key: str, status: SlipStatus, attrs: dict[str, Any]) -> bool:
    """Move an awaiting slip to `status`; False if it is not awaiting this object (a duplicate event)."""
    values = {f":{k}": v for k, v in attrs.items() if v is not None}
    sets = ", ".join(f"{k} = :{k}" for k, v in attrs.items() if v is not None)
    try:
        _table().update_item(
            Key={"pk": f"SLIP#{bet_id}"},
            UpdateExpression=f"SET #s = :status, updated_at = :now, {sets} REMOVE reason"
            if status != SlipStatus.rejected
            else f"SET #s = :status, updated_at = :now, {sets}",
            ConditionExpression="object_key = :key AND #s = :awaiting",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                **values,
                ":status": status.value,
                ":now": _now(),
                ":key": key,
                ":awaiting": SlipStatus.awaiting_upload.value,
            },
        )
        return True
    except aws.client("dynamodb").exceptions.ConditionalCheckFailedException:
        return False


def clustering_message(bet_id: str) -> ClusteringMessage | None:
    item = _table().get_item(Key={"pk": f"SLIP#{bet_id}"}, ConsistentRead=True).get("Item")
    if not item or item.get("status") != SlipStatus.embedded.value:
        return None
    return ClusteringMessage(
        bet_id=bet_id,
        object_key=item["object_key"],
        embedding=[float(x) for x in item["embedding"]],
        model_version=item["model_version"],
    )


def send_for_clustering(msg: ClusteringMessage) -> None:
    sqs = aws.client("sqs")
    url = _queue_url(settings().queue("slip-clustering"))
    sqs.send_message(QueueUrl=url, MessageBody=msg.model_dump_json())


_urls: dict[str, str] = {}


def _queue_url(name: str) -> str:
    if name not in _urls:
        _urls[name] = aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _urls[name]
