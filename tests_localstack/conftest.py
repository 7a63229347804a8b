"""The system on LocalStack (S3, SQS, SNS, SES, EventBridge, Secrets Manager) + moto's server (DynamoDB).

Everything listens on 127.0.0.1 and is stopped when the session ends (fixture finalizers), pass or
fail. LocalStack runs from its own venv: `python -m local.localstack install` creates it.

    .venv/bin/python -m pytest tests_localstack -q

BETWATCH_LOCALSTACK_PORT picks LocalStack's port (default 4566; a free one if 4566 is taken).

With a LocalStack already running (e.g. in Docker, where its DynamoDB works too):

    BETWATCH_LOCALSTACK_ENDPOINT=http://127.0.0.1:4566 BETWATCH_LOCALSTACK_DYNAMODB=1 \
      .venv/bin/python -m pytest tests_localstack -q

uses it as is (nothing started or stopped) and, with BETWATCH_LOCALSTACK_DYNAMODB=1, its DynamoDB
instead of moto's. Names, email and phone are unique per session, so runs do not see each other.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.core import aws as aws_clients  # noqa: E402
from chalicelib.core import config, resources  # noqa: E402

REGION = "eu-west-2"
RUN = secrets.token_hex(3)
STAGE = f"ls{RUN}"
EMAIL = f"staff-{RUN}@example.com"
PHONE = f"+4477009{int(RUN, 16) % 100_000:05d}"
# LocalStack's rate rules tick about once a minute; 1 minute is the smallest rate there is.
SCHEDULE_RATE_MINUTES = 1


@pytest.fixture(scope="session")
def localstack() -> Iterator[Any]:
    from local.localstack import DEFAULT_PORT, DEFAULT_SERVICES, LocalStack, free_port, is_installed, port_free

    external = os.environ.get("BETWATCH_LOCALSTACK_ENDPOINT")
    if external:
        host, _, port_s = external.removeprefix("http://").rstrip("/").rpartition(":")
        services = DEFAULT_SERVICES + (("dynamodb",) if _dynamodb_on_localstack() else ())
        running = LocalStack(host, int(port_s), services=services)
        running.wait_ready(timeout_s=30)
        yield running
        return
    if not is_installed():
        pytest.fail("LocalStack's venv is missing: run `.venv/bin/python -m local.localstack install`", False)
    port = int(os.environ.get("BETWATCH_LOCALSTACK_PORT", DEFAULT_PORT))
    if not port_free("127.0.0.1", port):
        fallback = free_port()
        warnings.warn(f"127.0.0.1:{port} is in use; LocalStack goes on {fallback}", stacklevel=1)
        port = fallback
    log = ROOT / ".local" / "localstack-test.log"
    ls = LocalStack("127.0.0.1", port, log_path=log)
    ls.start()
    try:
        ls.wait_ready(timeout_s=90)
        yield ls
    finally:
        ls.stop()


def _dynamodb_on_localstack() -> bool:
    return os.environ.get("BETWATCH_LOCALSTACK_DYNAMODB", "") not in ("", "0")


@pytest.fixture(scope="session")
def moto_dynamodb() -> Iterator[str | None]:
    """moto's server for DynamoDB (None when LocalStack's own DynamoDB is used)."""
    from local.moto_server import MotoServer

    if _dynamodb_on_localstack():
        yield None
        return
    server = MotoServer("127.0.0.1", 0).start()
    try:
        server.wait_ready()
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws_env(localstack: Any, moto_dynamodb: str | None) -> Iterator[dict[str, str]]:
    """boto3 pointed at LocalStack, DynamoDB at moto: only through boto3's own endpoint variables."""
    mp = pytest.MonkeyPatch()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE"):
        mp.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_"):
            mp.delenv(name)
    env = {
        "AWS_ENDPOINT_URL": localstack.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    if moto_dynamodb:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = moto_dynamodb
    for k, v in env.items():
        mp.setenv(k, v)
    aws_clients.reset()
    config.reset()
    try:
        yield env
    finally:
        mp.undo()
        aws_clients.reset()
        config.reset()


@pytest.fixture(scope="session")
def provisioned(aws_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Every declared resource on LocalStack/moto; schedule rules at 1 minute with their SQS target."""
    from local.provision import provision

    env = provision(STAGE, alert_emails=[EMAIL], alert_phones=[PHONE], schedule_rate_minutes=SCHEDULE_RATE_MINUTES)
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    config.reset()
    try:
        yield env
    finally:
        mp.undo()
        config.reset()


class Inbox:
    """An SQS queue subscribed to the alert topic: what a subscriber with that filter policy got."""

    def __init__(self, sqs: Any, url: str) -> None:
        self.sqs, self.url = sqs, url
        self.messages: list[dict[str, Any]] = []

    def collect(self, wait_s: int = 0) -> list[dict[str, Any]]:
        """Receive what arrived since the last call (each SNS envelope, parsed); returns all so far."""
        while True:
            resp = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
            got = resp.get("Messages", [])
            for m in got:
                self.messages.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
            if not got:
                return self.messages
            wait_s = 0


@pytest.fixture(scope="session")
def alert_inboxes(provisioned: dict[str, str]) -> dict[str, Inbox]:
    """SQS subscribers of the alert topic mirroring each declared subscription's filter policy.

    LocalStack records SMS at /_aws/sns/sms-messages and hands email to SES (/_aws/ses); these
    queues are the same deliveries seen through SNS→SQS, with the envelope and attributes.
    """
    sqs, sns = aws_clients.client("sqs"), aws_clients.client("sns")
    topic = resources.topic("alerts")
    topic_arn = provisioned[topic.env_var]
    inboxes: dict[str, Inbox] = {}
    for sub in topic.subscriptions:
        name = resources.physical_name(STAGE, f"test-inbox-{sub.protocol}")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        attributes = {"FilterPolicy": json.dumps(sub.filter_policy)} if sub.filter_policy else {}
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        inboxes[sub.protocol] = Inbox(sqs, url)
    return inboxes
