"""Knockbacks and SMS requests from the bet files: by id in `bets`, a customer's knockbacks in
`subjects`, open SMS requests and the feed rows in `monitoring` (formats in keys.py).

A knockback is written in one transaction: its item (conditional on the id being new), the
customer's knockback item and profile count, an activity marker (so the schedule evaluates the
customer's knockback rules) and its feed row. An SMS request likewise with its feed row and, when
open, its place in the open list; a status change moves it in or out of that list in the same
transaction, conditional on the status read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.cursor import decode_cursor, encode_cursor
from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, delete, put, update, values
from chalicelib.adapters.dynamodb.subjects import activity_item
from chalicelib.domain.intake import KnockbackRecord, SmsRequest, SmsStatus, knockback_row, sms_row
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import StoredKnockback, StoredSms

FEED_TTL_DAYS = 35


class DynamoIntakeStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str], history_days: int):
        self.db = dynamo
        self.bets, self.subjects, self.monitoring = tables["bets"], tables["subjects"], tables["monitoring"]
        self.history_days = history_days

    # --- knockbacks --------------------------------------------------------------------------------

    def knockback(self, knockback_id: str) -> StoredKnockback | None:
        item = self.db.get(self.bets, {"pk": keys.knockback(knockback_id)})
        if item is None:
            return None
        return StoredKnockback(KnockbackRecord.model_validate_json(item["doc"]), item["fingerprint"])

    def record_knockback(self, record: KnockbackRecord, fingerprint: str) -> bool:
        kb, at = record.knockback, record.recorded_at
        ref = SubjectRef.customer(record.customer_id)
        doc = record.model_dump_json()
        attempted = kb.attempted_at.astimezone(UTC)
        writes = [
            put(
                self.bets,
                {"pk": keys.knockback(kb.knockback_id), "doc": doc, "fingerprint": fingerprint},
                condition="attribute_not_exists(pk)",
            ),
            put(
                self.subjects,
                {
                    "pk": keys.subject(ref),
                    "sk": keys.subject_knockback(attempted, kb.knockback_id),
                    "doc": doc,
                    "expires_at": int((attempted + timedelta(days=self.history_days)).timestamp()),
                },
            ),
            update(
                self.subjects,
                {"pk": keys.subject(ref), "sk": keys.PROFILE},
                "ADD knockbacks_total :one SET display = :display, updated_at = :now",
                ExpressionAttributeValues=values(one=1, display=ref.id, now=keys.iso(at)),
            ),
            put(self.monitoring, activity_item(ref, at)),
            put(self.monitoring, self._feed_item(at, "kb", kb.knockback_id, knockback_row(record))),
        ]
        return self._transact(writes)

    def knockbacks(self, customer_id: str, start: datetime, end: datetime) -> list[KnockbackRecord]:
        lo, hi = keys.subject_knockbacks_between(start, end)
        items = self.db.query(
            self.subjects,
            max_pages=10,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=keys.subject(SubjectRef.customer(customer_id)), lo=lo, hi=hi),
            ProjectionExpression="doc",
        )
        return [KnockbackRecord.model_validate_json(i["doc"]) for i in items]

    # --- SMS requests ------------------------------------------------------------------------------

    def sms(self, wager_number: str) -> StoredSms | None:
        item = self.db.get(self.bets, {"pk": keys.sms(wager_number)})
        if item is None:
            return None
        return StoredSms(SmsRequest.model_validate_json(item["doc"]), item["fingerprint"])

    def record_sms(self, request: SmsRequest, fingerprint: str) -> bool:
        doc = request.model_dump_json()
        writes = [
            put(
                self.bets,
                {
                    "pk": keys.sms(request.wager_number),
                    "doc": doc,
                    "fingerprint": fingerprint,
                    "status": request.status.value,
                },
                condition="attribute_not_exists(pk)",
            ),
            put(
                self.monitoring,
                self._feed_item(request.recorded_at, "sms", request.wager_number, sms_row(request)),
            ),
        ]
        if request.status is SmsStatus.open:
            writes.append(put(self.monitoring, self._open_item(request, doc)))
        return self._transact(writes)

    def update_sms(self, request: SmsRequest, expected: SmsStatus) -> bool:
        doc = request.model_dump_json()
        writes = [
            update(
                self.bets,
                {"pk": keys.sms(request.wager_number)},
                "SET #doc = :doc, #status = :status",
                ConditionExpression="#status = :expected",
                ExpressionAttributeNames={"#doc": "doc", "#status": "status"},
                ExpressionAttributeValues=values(doc=doc, status=request.status.value, expected=expected.value),
            )
        ]
        was_open, is_open = expected is SmsStatus.open, request.status is SmsStatus.open
        if is_open:
            writes.append(put(self.monitoring, self._open_item(request, doc)))
        elif was_open:
            writes.append(delete(self.monitoring, self._open_key(request)))
        if not self.db.transact_guarded(writes):
            return False
        # Its feed row shows the new status. Display only, so after the change rather than in it:
        # a row already gone by TTL is not written back (the condition), and does not fail a close.
        at, key = request.recorded_at, keys.feed_record("sms", request.wager_number)
        self.db.update(
            self.monitoring,
            {"pk": keys.feed(at, key), "sk": keys.feed_sort(at, key)},
            "SET #status = :status",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(status=request.status.value),
        )
        return True

    def open_sms(self, limit: int, cursor: str | None) -> tuple[list[SmsRequest], str | None]:
        start = decode_cursor(cursor).get("k") if cursor else None
        items, last = self.db.query_page(
            self.monitoring,
            limit,
            start_key=start,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=keys.SMS_OPEN),
        )
        return [SmsRequest.model_validate_json(i["doc"]) for i in items], (encode_cursor({"k": last}) if last else None)

    # --- shared ------------------------------------------------------------------------------------

    def _transact(self, writes: list[dict[str, Any]]) -> bool:
        return self.db.transact_guarded(writes)  # False: the id exists (the caller compares fingerprints)

    @staticmethod
    def _open_key(request: SmsRequest) -> dict[str, str]:
        return {"pk": keys.SMS_OPEN, "sk": keys.sms_open_sort(request.received_at, request.wager_number)}

    def _open_item(self, request: SmsRequest, doc: str) -> dict[str, Any]:
        return {**self._open_key(request), "doc": doc}

    @staticmethod
    def _feed_item(at: datetime, record_type: str, record_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """A row in the feed of records (as DynamoBetStore.feed_item writes a bet's)."""
        key = keys.feed_record(record_type, record_id)
        sel = row["selections"]
        item = {
            "pk": keys.feed(at, key),
            "sk": keys.feed_sort(at, key),
            **{k: v for k, v in row.items() if k not in ("selections", "record_id") and v is not None},
            "bet_id": record_id,
            "sel": sel,
            "sel_lc": " | ".join(sel).lower(),
            "expires_at": int(at.timestamp()) + FEED_TTL_DAYS * 86400,
        }
        return item
