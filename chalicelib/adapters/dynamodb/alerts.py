"""Alerts in the `alerts` table, created once per rule, subject and cooldown, published via an outbox.

Creating an alert is one transaction: the rule's cooldown state for the subject (in `monitoring`;
condition: no alert within the cooldown) and the alert item, which carries `outbox = PENDING` and so
appears in the sparse `outbox` index until it is published. A retried evaluation (same event time)
fails the cooldown condition and raises nothing; a crash between publish and unmark can repeat one
SNS message (at least once), never lose one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, put, serialize, update, values
from chalicelib.domain.alerts import Alert, AlertEvent

DAY_INDEX, OUTBOX_INDEX = "by_day", "outbox"


def _doc(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json")


class DynamoAlertStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.tables = tables
        self.table = tables["alerts"]

    def create(self, alert: Alert, cooldown: timedelta) -> bool:
        now = alert.raised_at.astimezone(UTC)
        item = {
            "pk": keys.alert(alert.alert_id),
            "sk": keys.ALERT,
            "doc": _doc(alert),
            "alert_day": keys.day(now),
            "alert_status": alert.status.value,
            "subject_key": keys.subject(alert.subject),
            "rule_id": alert.rule_id,
            "raised": keys.alert_sort(now, alert.alert_id),
            "outbox": keys.OUTBOX_PENDING,
        }
        try:
            self.db.transact(
                [
                    update(
                        self.tables["monitoring"],
                        {"pk": keys.rule_state(alert.rule_id, alert.subject), "sk": keys.STATE},
                        "SET last_alert_at = :now, last_alert_id = :id",
                        ConditionExpression="attribute_not_exists(last_alert_at) OR last_alert_at <= :cutoff",
                        ExpressionAttributeValues=values(
                            now=keys.iso(now), id=alert.alert_id, cutoff=keys.iso(now - cooldown)
                        ),
                    ),
                    put(self.table, item, condition="attribute_not_exists(pk)"),
                ]
            )
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        return True

    def get(self, alert_id: str) -> Alert | None:
        item = self.db.get(self.table, {"pk": keys.alert(alert_id), "sk": keys.ALERT})
        return Alert.model_validate(item["doc"]) if item else None

    def recent(self, since: datetime, until: datetime, limit: int) -> list[Alert]:
        out: list[Alert] = []
        day = until.astimezone(UTC)
        while len(out) < limit and keys.day(day) >= keys.day(since):
            items, _ = self.db.query_page(
                self.table,
                limit=limit - len(out),
                IndexName=DAY_INDEX,
                KeyConditionExpression="alert_day = :d",
                ExpressionAttributeValues=values(d=keys.day(day)),
                ScanIndexForward=False,
            )
            out += [Alert.model_validate(i["doc"]) for i in items]
            day -= timedelta(days=1)
        return out

    def pending(self, limit: int) -> list[Alert]:
        items, _ = self.db.query_page(
            self.table,
            limit=limit,
            IndexName=OUTBOX_INDEX,
            KeyConditionExpression="outbox = :p",
            ExpressionAttributeValues=values(p=keys.OUTBOX_PENDING),
        )
        return [Alert.model_validate(i["doc"]) for i in items]

    def mark_published(self, alert_id: str, at: datetime, message_id: str) -> None:
        event = AlertEvent(at=at, actor="system", action="published", note=f"SNS message {message_id}")
        self.db.update(
            self.table,
            {"pk": keys.alert(alert_id), "sk": keys.ALERT},
            "REMOVE outbox SET doc.published_at = :t, doc.events = list_append(doc.events, :e), sns_message_id = :m",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                **values(t=at.astimezone(UTC).isoformat(), m=message_id),
                ":e": serialize([event.model_dump(mode="json")]),
            },
        )
