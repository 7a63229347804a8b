"""The SNS, S3 and SQS adapters on moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from chalicelib import wiring
from chalicelib.core import aws, config
from chalicelib.domain.alerts import Alert, Metric
from chalicelib.domain.subjects import SubjectRef
from local.moto_server import _for_protocol


def test_notifier_sends_email_and_sms_text_with_the_severity(adapters: wiring.Adapters) -> None:
    from moto.backends import get_backend

    alert = Alert(
        alert_id="al-1",
        rule_id="stake_window_customer",
        subject=SubjectRef.customer("C9"),
        severity="critical",
        title="customer C9 staked £2,000.00 in 24 h",
        detail="...",
        metric=Metric(name="stake_total", value=200_000, threshold=50_000, unit="minor_units"),
        raised_at=datetime.now(UTC),
    )
    message_id = adapters.notifier.publish(alert)
    topic = get_backend("sns")["123456789012"]["eu-west-2"].topics[config.settings().topic_arn("alerts")]
    [(mid, message, subject, attrs, _)] = topic.sent_notifications
    assert mid == message_id and subject.startswith("[betwatch critical]")
    assert _for_protocol(message, "sms") == "betwatch CRITICAL: customer C9 staked £2,000.00 in 24 h"
    assert "Alert id: al-1" in _for_protocol(message, "email") and attrs["severity"]["Value"] == "critical"


def test_presigned_post_is_bounded_and_read_is_bounded(adapters: wiring.Adapters) -> None:
    bucket = config.settings().bucket("slips")
    post = adapters.files.presign_post(bucket, "slips/B1/u", "image/png", 1024, 2048, 600)
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    assert ["content-length-range", 1024, 2048] in policy["conditions"] and {"Content-Type": "image/png"} in policy[
        "conditions"
    ]
    aws.client("s3").put_object(Bucket=bucket, Key="slips/B1/u", Body=b"x" * 5000)
    assert len(adapters.files.read(bucket, "slips/B1/u", 100)) == 101  # enough to see it is too big


def test_queue_send(adapters: wiring.Adapters) -> None:
    adapters.queue.send("slip-clustering", '{"hello": 1}')
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=config.settings().queue("slip-clustering"))["QueueUrl"]
    [m] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert json.loads(m["Body"]) == {"hello": 1}
