"""Staff notifications on the alerts topic: an email text and a short SMS in one publish.

Subscriptions filter on the `severity` attribute (SMS: high and critical only; core/resources.py).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.clock import rfc3339
from chalicelib.domain.alerts import Alert


def email_text(a: Alert) -> str:
    return (
        f"{a.title}\n\n{a.detail}\n\nRule: {a.rule_id} (version {a.rule_version})\n"
        f"Subject: {a.subject.describe()}\nSeverity: {a.severity}\n"
        f"Raised: {rfc3339(a.raised_at)}\nAlert id: {a.alert_id}\n"
    )


def sms_text(a: Alert) -> str:
    return f"betwatch {a.severity.upper()}: {a.title}"[:160]


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str):
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        email = email_text(alert)
        resp = self.client.publish(
            TopicArn=self.topic_arn,
            Subject=f"[betwatch {alert.severity}] {alert.title}"[:100],
            Message=json.dumps({"default": email, "email": email, "sms": sms_text(alert)}),
            MessageStructure="json",
            MessageAttributes={
                "severity": {"DataType": "String", "StringValue": alert.severity},
                "rule": {"DataType": "String", "StringValue": alert.rule_id},
                "subject_kind": {"DataType": "String", "StringValue": alert.subject.kind.value},
            },
        )
        return str(resp["MessageId"])
