"""Alerts: created exactly once per rule, subject and cooldown, published to SNS via an outbox.

Creating an alert is one transaction: the rule's cooldown state for the subject (condition: no
alert within the cooldown) and the alert item, which carries `outbox = PENDING` and so appears in
the sparse `outbox` index. Publishing reads that index, publishes, then removes the marker. A
retried schedule (same event time) fails the cooldown condition, so it never raises a second alert;
a crash between publish and unmark can repeat one SNS message (at-least-once), never lose one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from pydantic import BaseModel

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.domain.money import format_minor

Severity = Literal["info", "medium", "high", "critical"]
PENDING = "PENDING"


class Alert(BaseModel):
    alert_id: str
    rule: str
    subject: str  # CUST#<id> or WRITER#<id>
    severity: Severity
    title: str
    detail: str
    metric_minor: int
    threshold_minor: int
    window_hours: int
    raised_at: datetime
    published_at: datetime | None = None


def _table() -> Any:
    return aws.dynamodb_table(settings().table("monitoring"))


def _day(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d")


def alert_id(rule: str, subject: str, raised_at: datetime) -> str:
    return hashlib.sha256(f"{rule}|{subject}|{raised_at.isoformat()}".encode()).hexdigest()[:20]


def raise_alert(alert: Alert, cooldown: timedelta) -> bool:
    """Record the alert unless this rule alerted on this subject within `cooldown`. True if new."""
    cfg = settings()
    now = alert.raised_at.astimezone(UTC)
    item = json.loads(alert.model_dump_json())
    ddb_item = {k: ({"N": str(v)} if isinstance(v, int) else {"S": str(v)}) for k, v in item.items() if v is not None}
    ddb_item.update(
        {
            "pk": {"S": f"ALERTS#{_day(now)}"},
            "sk": {"S": f"{now.isoformat()}#{alert.alert_id}"},
            "outbox": {"S": PENDING},
            "expires_at": {"N": str(int((now + timedelta(days=400)).timestamp()))},
        }
    )
    try:
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": cfg.table("monitoring"),
                        "Key": {"pk": {"S": f"RULESTATE#{alert.rule}#{alert.subject}"}, "sk": {"S": "STATE"}},
                        "UpdateExpression": "SET last_alert_at = :now, last_alert_id = :id",
                        "ConditionExpression": "attribute_not_exists(last_alert_at) OR last_alert_at < :cutoff",
                        "ExpressionAttributeValues": {
                            ":now": {"S": now.isoformat()},
                            ":id": {"S": alert.alert_id},
                            ":cutoff": {"S": (now - cooldown).isoformat()},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": cfg.table("monitoring"),
                        "Item": ddb_item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
        return True
    except aws.client("dynamodb").exceptions.TransactionCanceledException as exc:
        codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in codes:
            return False
        raise


def _from_item(item: dict[str, Any]) -> Alert:
    ints = ("metric_minor", "threshold_minor", "window_hours")
    return Alert.model_validate({k: int(v) if k in ints else v for k, v in item.items() if k in Alert.model_fields})


def _sms_text(a: Alert) -> str:
    return f"betwatch {a.severity.upper()}: {a.title}"[:160]


def publish_pending(limit: int = 100) -> list[str]:
    """Publish alerts still in the outbox; returns the ids published."""
    cfg = settings()
    table = _table()
    page = table.query(IndexName="outbox", KeyConditionExpression=Key("outbox").eq(PENDING), Limit=limit)
    sns = aws.client("sns")
    done = []
    for item in page.get("Items", []):
        a = _from_item(item)
        email = (
            f"{a.title}\n\n{a.detail}\n\nRule: {a.rule}\nSubject: {a.subject}\n"
            f"Raised: {a.raised_at.isoformat()}\nAlert id: {a.alert_id}\n"
        )
        resp = sns.publish(
            TopicArn=cfg.topic_arn("alerts"),
            Subject=f"[betwatch {a.severity}] {a.title}"[:100],
            Message=json.dumps({"default": email, "email": email, "sms": _sms_text(a)}),
            MessageStructure="json",
            MessageAttributes={
                "severity": {"DataType": "String", "StringValue": a.severity},
                "rule": {"DataType": "String", "StringValue": a.rule},
                "subject_kind": {"DataType": "String", "StringValue": a.subject.split("#", 1)[0]},
            },
        )
        table.update_item(
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="REMOVE outbox SET published_at = :t, sns_message_id = :m",
            ExpressionAttributeValues={":t": datetime.now(UTC).isoformat(), ":m": resp["MessageId"]},
        )
        done.append(a.alert_id)
    return done


def recent(days: int = 7, limit: int = 100, now: datetime | None = None) -> list[Alert]:
    """Newest first, one Query per day partition."""
    now = now or datetime.now(UTC)
    out: list[Alert] = []
    for d in range(days):
        if len(out) >= limit:
            break
        page = _table().query(
            KeyConditionExpression=Key("pk").eq(f"ALERTS#{_day(now - timedelta(days=d))}"),
            ScanIndexForward=False,
            Limit=limit - len(out),
        )
        for item in page.get("Items", []):
            out.append(_from_item(item))
    return out


def describe_stake(subject: str, total: int, threshold: int, bets: int, hours: int, currency: str) -> tuple[str, str]:
    kind, ident = subject.split("#", 1)
    who = f"customer {ident}" if kind == "CUST" else f"anonymous writer {ident}"
    title = f"{who} staked {format_minor(total, currency)} in {hours} h"
    detail = (
        f"{who[0].upper() + who[1:]} placed {bets} bets totalling {format_minor(total, currency)} in the last "
        f"{hours} hours, over the {format_minor(threshold, currency)} threshold."
    )
    return title, detail
