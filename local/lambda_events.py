"""Builders for the event payloads AWS Lambda really delivers, and a Lambda context object.

The local runner (`local/runner.py`) and the tests hand these to handlers, so a handler sees locally
exactly the shapes it sees in AWS:

* SQS event source mapping: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
* EventBridge scheduled rule: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

DEFAULT_ACCOUNT = "123456789012"


def _lambda_message_attributes(attrs: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """SQS API message attributes (StringValue/DataType) → the Lambda event's camelCase shape."""
    out: dict[str, dict[str, Any]] = {}
    for name, a in (attrs or {}).items():
        if "dataType" in a:  # already in the Lambda shape
            out[name] = dict(a)
            continue
        item: dict[str, Any] = {
            "stringListValues": list(a.get("StringListValues", [])),
            "binaryListValues": [
                base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in a.get("BinaryListValues", [])
            ],
            "dataType": a.get("DataType", "String"),
        }
        if "StringValue" in a:
            item["stringValue"] = a["StringValue"]
        if "BinaryValue" in a:
            v = a["BinaryValue"]
            item["binaryValue"] = base64.b64encode(v).decode() if isinstance(v, bytes) else v
        out[name] = item
    return out


def sqs_record(
    message: Mapping[str, Any] | str, queue_arn: str, region: str, now_ms: int | None = None
) -> dict[str, Any]:
    """One record of an SQS event.

    `message` is a message as returned by boto3's ReceiveMessage (MessageId, ReceiptHandle, Body,
    Attributes, MessageAttributes, MD5OfBody) or, for tests, just the body string.
    """
    now = str(now_ms if now_ms is not None else int(time.time() * 1000))
    if isinstance(message, str):
        message = {"Body": message}
    body = message.get("Body", "")
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": now,
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": now,
    }
    # ReceiveMessage with AttributeNames=All also returns e.g. AWSTraceHeader, MessageGroupId,
    # SequenceNumber; Lambda passes them all through as strings.
    attributes.update({k: str(v) for k, v in (message.get("Attributes") or {}).items()})
    return {
        "messageId": message.get("MessageId") or str(uuid.uuid4()),
        "receiptHandle": message.get("ReceiptHandle") or base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": attributes,
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes")),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: Iterable[Mapping[str, Any] | str], queue_arn: str, region: str) -> dict[str, Any]:
    """The event a Lambda function receives from an SQS event source mapping."""
    now_ms = int(time.time() * 1000)
    return {"Records": [sqs_record(m, queue_arn, region, now_ms) for m in messages]}


def queue_arn(region: str, account: str, queue_name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{queue_name}"


def rule_arn(region: str, account: str, rule_name: str) -> str:
    return f"arn:aws:events:{region}:{account}:rule/{rule_name}"


def scheduled_event(
    rule_arn: str,
    time: datetime | None = None,
    region: str = "eu-west-2",
    account: str = DEFAULT_ACCOUNT,
) -> dict[str, Any]:
    """The event an EventBridge schedule rule (rate/cron) delivers to its Lambda target."""
    t = time or datetime.now(UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object that code uses."""

    def __init__(
        self,
        function_name: str = "betwatch-local",
        memory_limit_in_mb: int = 512,
        timeout_s: float = 60.0,
        region: str = "eu-west-2",
        account: str = DEFAULT_ACCOUNT,
        aws_request_id: str | None = None,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[{function_version}]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"
