"""IAM statements of each declared function, generated from `resources.FUNCTIONS` (pure).

The CDK stack turns them into policy statements with its resources' ARNs; the local provisioner
creates the same roles on moto or LocalStack. One declaration, two consumers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.core.resources import Function, bucket

TABLE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
# TransactWriteItems is authorised per item with these actions; there is no TransactWriteItems action.
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")
SEND = ("sqs:GetQueueUrl", "sqs:SendMessage")


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]


class Arns(Protocol):
    """ARNs of the declared resources (CDK tokens in the stack, real ARNs locally)."""

    def table(self, logical: str) -> str: ...

    def queue(self, logical: str) -> str: ...

    def bucket(self, logical: str) -> str: ...

    def topic(self, logical: str) -> str: ...

    def topic_key(self, logical: str) -> str | None:
        """The KMS key encrypting the topic, if any."""
        ...

    def secret(self, logical: str) -> str: ...


def statements(fn: Function, arns: Arns) -> list[Statement]:
    out: list[Statement] = []
    for use in fn.tables:
        table = arns.table(use.table)
        resources = (table, f"{table}/index/*") if use.indexes else (table,)
        out.append(Statement(TABLE_READ + (TABLE_WRITE if use.write else ()), resources))
    if fn.describe_tables:
        out.append(Statement(("dynamodb:DescribeTable",), tuple(arns.table(u.table) for u in fn.tables)))
    for q in fn.consumes:
        out.append(Statement(CONSUME, (arns.queue(q),)))
    for q in fn.sends_to:
        out.append(Statement(SEND, (arns.queue(q),)))
    for b in fn.reads_objects:
        out.append(Statement(("s3:GetObject",), (f"{arns.bucket(b)}/{bucket(b).notify_prefix}*",)))
    for b in fn.writes_objects:
        out.append(Statement(("s3:PutObject",), (f"{arns.bucket(b)}/*",)))
    for b in fn.presigns_uploads:
        out.append(Statement(("s3:PutObject",), (f"{arns.bucket(b)}/{bucket(b).notify_prefix}*",)))
    for b in fn.quarantines:
        arn, declared = arns.bucket(b), bucket(b)
        out.append(Statement(("s3:PutObject",), (f"{arn}/{declared.quarantine_prefix}*",)))
        out.append(Statement(("s3:DeleteObject",), (f"{arn}/{declared.notify_prefix}*",)))
        # Without ListBucket a missing object answers 403, not 404 (a redelivery after the move).
        out.append(Statement(("s3:ListBucket",), (arn,)))
    for t in fn.publishes:
        out.append(Statement(("sns:Publish",), (arns.topic(t),)))
        if key := arns.topic_key(t):
            out.append(Statement(("kms:GenerateDataKey", "kms:Decrypt"), (key,)))
    for s in fn.secrets:
        out.append(Statement(("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"), (arns.secret(s),)))
    return out


def policy_document(fn: Function, arns: Arns) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(s.actions), "Resource": list(s.resources)} for s in statements(fn, arns)
        ],
    }
