"""Alerts in the `alerts` table, created once per rule, subject and cooldown, published via an outbox.

Creating an alert is one transaction: the rule's cooldown state for the subject (in `monitoring`;
condition: no alert within the cooldown), a check that the subject is not snoozed for the rule, and
the alert item, which carries `outbox = PENDING` and so appears in the sparse `outbox` index until
it is published. A retried evaluation (same event time) fails the cooldown condition and raises
nothing; a crash between publish and unmark can repeat one SNS message (at least once), never lose
one. Case transitions are conditional on the status read, so of two concurrent ones only one wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.cursor import decode_cursor, encode_cursor
from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import (
    Dynamo,
    TransactionCancelled,
    condition_check,
    put,
    serialize,
    update,
    values,
)
from chalicelib.domain.alerts import Alert, AlertEvent, AlertStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import AlertQuery

SHADOW = "shadow"  # the status attribute of shadow hits: never listed as alerts, never sent
SEARCH_DAYS = 31
MAX_PAGES = 10


def _status_attr(alert: Alert) -> str:
    return SHADOW if alert.shadow else alert.status.value


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
            "doc": alert.model_dump(mode="json"),
            "alert_day": keys.day(now),
            "alert_status": _status_attr(alert),
            "subject_key": keys.subject(alert.subject),
            "rule_id": alert.rule_id,
            "severity": alert.severity,
            "raised": keys.alert_sort(now, alert.alert_id),
            "outbox": None if alert.shadow else keys.OUTBOX_PENDING,
        }
        monitoring = self.tables["monitoring"]
        try:
            self.db.transact(
                [
                    update(
                        monitoring,
                        {"pk": keys.rule_state(alert.rule_id, alert.subject), "sk": keys.STATE},
                        "SET last_alert_at = :now, last_alert_id = :id",
                        ConditionExpression="attribute_not_exists(last_alert_at) OR last_alert_at <= :cutoff",
                        ExpressionAttributeValues=values(
                            now=keys.iso(now), id=alert.alert_id, cutoff=keys.iso(now - cooldown)
                        ),
                    ),
                    condition_check(
                        monitoring,
                        {"pk": keys.snooze(alert.rule_id, alert.subject), "sk": keys.STATE},
                        "attribute_not_exists(until_at) OR until_at <= :now",
                        ExpressionAttributeValues=values(now=keys.iso(now)),
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
        return self.search(AlertQuery(since=since, until=until), limit, None)[0]

    def count(self, status: AlertStatus, limit: int) -> int:
        """One Query of the by_status index (Select=COUNT, at most `limit` items read): the cost is
        bounded by `limit`, however many alerts the table holds."""
        return self.db.count(
            self.table,
            limit,
            IndexName="by_status",
            KeyConditionExpression="alert_status = :s",
            ExpressionAttributeValues=values(s=status.value),
        )

    def search(self, query: AlertQuery, limit: int, cursor: str | None) -> tuple[list[Alert], str | None]:
        until = (query.until or datetime.now(UTC)).astimezone(UTC)
        since = (query.since or until - timedelta(days=SEARCH_DAYS)).astimezone(UTC)
        state = decode_cursor(cursor) if cursor else {}
        index, pk_name, pk_value = self._index(query)
        filters, names, vals = self._filters(query, index)
        vals.update(values(lo=keys.alert_sort(since, ""), hi=keys.alert_sort(until, "~")))
        out: list[Alert] = []
        day = datetime.fromisoformat(state["day"]) if "day" in state else until
        start_key = state.get("key")
        pages = 0
        while len(out) < limit and pages < MAX_PAGES:
            part = keys.day(day) if index == "by_day" else pk_value
            if index == "by_day" and keys.day(day) < keys.day(since):
                break
            kwargs: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": f"{pk_name} = :part AND raised BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {**vals, **values(part=part)},
                "ScanIndexForward": False,
            }
            if filters:
                kwargs["FilterExpression"] = " AND ".join(filters)
            if names:
                kwargs["ExpressionAttributeNames"] = names
            items, last = self.db.query_page(self.table, limit=limit - len(out), start_key=start_key, **kwargs)
            pages += 1
            out += [Alert.model_validate(i["doc"]) for i in items]
            if last:
                start_key = last
                continue
            start_key = None
            if index != "by_day":
                return out, None
            day -= timedelta(days=1)
        if index == "by_day" and keys.day(day) < keys.day(since):
            return out, None
        return out, encode_cursor({"day": day.isoformat(), "key": start_key} if start_key or index == "by_day" else {})

    @staticmethod
    def _index(q: AlertQuery) -> tuple[str, str, str]:
        """The most selective index for the query: (index, its partition attribute, the value)."""
        if q.subject is not None:
            return "by_subject", "subject_key", keys.subject(q.subject)
        if q.assignee:
            return "by_assignee", "assignee", q.assignee
        if q.rule_id:
            return "by_rule", "rule_id", q.rule_id
        if q.shadow:
            return "by_status", "alert_status", SHADOW
        if q.status is not None:
            return "by_status", "alert_status", q.status.value
        return "by_day", "alert_day", ""

    @staticmethod
    def _filters(q: AlertQuery, index: str) -> tuple[list[str], dict[str, str], dict[str, Any]]:
        filters: list[str] = []
        names: dict[str, str] = {}
        vals: dict[str, Any] = {}
        if index != "by_status":
            if q.shadow:
                filters.append("alert_status = :shadow")
            elif q.status is not None:
                filters.append("alert_status = :status")
                vals.update(values(status=q.status.value))
            else:
                filters.append("alert_status <> :shadow")
            vals.update(values(shadow=SHADOW))
        if q.severity:
            filters.append("severity = :severity")
            vals.update(values(severity=q.severity))
        if q.rule_id and index != "by_rule":
            filters.append("rule_id = :rule")
            vals.update(values(rule=q.rule_id))
        if q.assignee and index != "by_assignee":
            filters.append("assignee = :assignee")
            vals.update(values(assignee=q.assignee))
        if q.subject is not None and index != "by_subject":  # pragma: no cover - subject always picks by_subject
            filters.append("subject_key = :subject")
            vals.update(values(subject=keys.subject(q.subject)))
        return filters, names, vals

    def update(self, alert: Alert, expected: AlertStatus) -> bool:
        sets = "SET doc = :doc, alert_status = :s"
        vals = {
            **values(s=_status_attr(alert), expected=expected.value),
            ":doc": serialize(alert.model_dump(mode="json")),
        }
        if alert.assignee:
            sets += ", assignee = :a"
            vals.update(values(a=alert.assignee))
        return self.db.update(
            self.table,
            {"pk": keys.alert(alert.alert_id), "sk": keys.ALERT},
            sets,
            ConditionExpression="alert_status = :expected",
            ExpressionAttributeValues=vals,
        )

    def snooze(self, rule_id: str, subject: SubjectRef, until: datetime, by: str) -> None:
        self.db.put(
            self.tables["monitoring"],
            {
                "pk": keys.snooze(rule_id, subject),
                "sk": keys.STATE,
                "until_at": keys.iso(until),
                "by": by,
                "expires_at": int(until.timestamp()) + 86400,
            },
        )

    def snoozed_until(self, rule_id: str, subject: SubjectRef) -> datetime | None:
        item = self.db.get(self.tables["monitoring"], {"pk": keys.snooze(rule_id, subject), "sk": keys.STATE})
        return datetime.fromisoformat(item["until_at"]) if item else None

    def pending(self, limit: int) -> list[Alert]:
        items, _ = self.db.query_page(
            self.table,
            limit=limit,
            IndexName="outbox",
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
