"""The slip-scoring Lambda, fed the real SQS-wrapped S3 notification payload from tests/events."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import JWT_SECRET


@pytest.fixture
def slip_env(provisioned: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from chalicelib import wiring
    from chalicelib.core import config
    from functions.slip_scoring import handler

    monkeypatch.setenv("BETWATCH_JWT_SECRET", JWT_SECRET)
    config.reset()
    wiring.use(None)
    handler._processor = None  # built from the settings of this test's moto
    yield provisioned
    handler._processor = None


def _slips() -> Any:
    from chalicelib import wiring

    return wiring.container().adapters.slips


def _event(load_event: Any, bucket: str, key: str, size: int) -> dict[str, Any]:
    event = copy.deepcopy(load_event("sqs_event_s3_notification.json"))
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["bucket"]["name"] = bucket
    body["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")  # as moto encodes it
    body["Records"][0]["s3"]["object"]["size"] = size
    event["Records"][0]["body"] = json.dumps(body)
    return event


def _awaiting(bet_id: str, data: bytes) -> tuple[str, str]:
    from datetime import UTC, datetime

    from chalicelib.core import aws
    from chalicelib.core.config import settings

    key = f"slips/{bet_id}/upload1"
    assert _slips().reserve_upload(bet_id, key, datetime.now(UTC))
    bucket = settings().bucket("slips")
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    return bucket, key


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from functions.slip_scoring.handler import handler
    from local.lambda_events import LambdaContext

    return handler(event, LambdaContext(function_name="slip-scoring"))


def test_real_payload_embeds_and_queues_for_clustering(slip_env: dict[str, str], load_event: Any) -> None:
    from chalicelib.core import aws
    from local.slipgen import make_slip

    data = make_slip(writer_seed=5, slip_seed=1)
    bucket, key = _awaiting("BET1", data)
    assert _invoke(_event(load_event, bucket, key, len(data))) == {"batchItemFailures": []}
    rec = _slips().get("BET1")
    assert rec is not None and rec.status == "embedded" and rec.model_version
    url = aws.client("sqs").get_queue_url(QueueName=slip_env["BETWATCH_QUEUE_SLIP_CLUSTERING"])["QueueUrl"]
    msgs = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1 and json.loads(msgs[0]["Body"])["bet_id"] == "BET1"


def test_oversized_slip_is_rejected_kept_and_not_retried(slip_env: dict[str, str], load_event: Any) -> None:
    from chalicelib.core import aws

    bucket, key = _awaiting("BET2", b"\xff\xd8" + b"0" * 2048)
    out = _invoke(_event(load_event, bucket, key, 9 * 1024 * 1024))
    assert out == {"batchItemFailures": []}  # a rejection is an answer, not a failure to retry
    rec = _slips().get("BET2")
    assert rec is not None and rec.status == "rejected"
    assert "over the 8 MiB (8,388,608 bytes) limit" in (rec.reason or "")
    assert aws.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0  # kept for audit


def test_not_an_image_is_rejected_with_the_reason(slip_env: dict[str, str], load_event: Any) -> None:
    bucket, key = _awaiting("BET3", b"%PDF-1.4 " * 500)
    assert _invoke(_event(load_event, bucket, key, 4500)) == {"batchItemFailures": []}
    rec = _slips().get("BET3")
    assert rec is not None and rec.status == "rejected" and "not an image" in (rec.reason or "")


def test_unexpected_objects_and_test_events_are_ignored(slip_env: dict[str, str], load_event: Any) -> None:
    from chalicelib.core.config import settings

    assert _invoke(_event(load_event, settings().bucket("slips"), "slips/NOBET/abc", 5000)) == {"batchItemFailures": []}
    test_event = copy.deepcopy(load_event("sqs_event_s3_notification.json"))
    test_event["Records"][0]["body"] = json.dumps(load_event("s3_test_event.json"))
    assert _invoke(test_event) == {"batchItemFailures": []}


def test_a_transient_error_is_reported_for_retry(slip_env: dict[str, str], load_event: Any) -> None:
    from chalicelib.core import aws
    from functions.slip_scoring import handler as handler_module

    bucket, key = _awaiting("BET4", b"x" * 5000)

    class BrokenS3:
        def get_object(self, **_: Any) -> Any:
            raise ConnectionError("S3 unreachable")

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    ok_bucket, ok_key = _awaiting("BET5", b"%PDF" * 2000)
    aws.inject("s3", BrokenS3())
    handler_module._processor = None
    event = _event(load_event, bucket, key, 5000)
    event["Records"].append(_event(load_event, ok_bucket, ok_key, 8000)["Records"][0] | {"messageId": "m-2"})
    with pytest.raises(BatchProcessingError):  # every record failed: Lambda retries the whole batch
        _invoke(event)
    aws.reset()

    # One bad record among good ones is reported alone.
    class HalfBrokenS3:
        def __init__(self) -> None:
            self.real = aws.client("s3")

        def get_object(self, Bucket: str, Key: str) -> Any:
            if Key == key:
                raise ConnectionError("S3 unreachable")
            return self.real.get_object(Bucket=Bucket, Key=Key)

    aws.inject("s3", HalfBrokenS3())
    handler_module._processor = None
    out = _invoke(event)
    assert out == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert _slips().get("BET5").status == "rejected"  # type: ignore[union-attr]
    rec = _slips().get("BET4")
    assert rec is not None and rec.status == "awaiting_upload"  # nothing half-written


def test_schedule_handler_takes_the_real_scheduled_event(slip_env: dict[str, str], load_event: Any) -> None:
    import app
    from local.lambda_events import LambdaContext

    out = app.evaluate_rules(load_event("scheduled_event.json"), LambdaContext(function_name="evaluate-rules"))
    assert out == {"raised": 0, "published": 0}
