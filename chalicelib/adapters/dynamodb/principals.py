"""API keys (pk KEY#<sha256>) and staff users (pk USER#<name>) in the `principals` table, failed
logins per user and source (LOGINFAIL#, TTL); the keys by name (for listing, without secrets) and
the access audit trail in `monitoring` (every format in keys.py)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, put, update, values
from chalicelib.ports import AccessAudit, ApiKeyRecord, UserRecord

KEY_FIELDS = ("key_id", "name", "role", "created_at", "scope", "revoked_at", "expires_at")
AUDIT_MONTHS = 3  # the trail read back: this month and the two before


def _key(digest: str, item: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(digest, **{f: str(item.get(f) or "") for f in KEY_FIELDS})


class DynamoPrincipalStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["principals"]
        self.index = tables["monitoring"]

    def _index_item(self, record: ApiKeyRecord) -> dict[str, Any]:
        return {"pk": keys.API_KEYS, "sk": keys.api_key_name(record.name), "digest": record.digest, **_fields(record)}

    def add_api_key(self, record: ApiKeyRecord) -> bool:
        try:
            self.db.transact(
                [
                    put(self.index, self._index_item(record), condition="attribute_not_exists(pk)"),
                    put(
                        self.table,
                        {"pk": keys.api_key(record.digest), **_fields(record)},
                        condition="attribute_not_exists(pk)",
                    ),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False
            raise RuntimeError("API key digest collision") from exc  # 256-bit random keys: never in practice
        return True

    def api_key(self, digest: str) -> ApiKeyRecord | None:
        item = self.db.get(self.table, {"pk": keys.api_key(digest)}, consistent=False)
        return _key(digest, item) if item else None

    def api_keys(self) -> list[ApiKeyRecord]:
        items = self.db.query(
            self.index, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.API_KEYS)
        )
        return [_key(str(i["digest"]), i) for i in items]

    def named_key(self, name: str) -> ApiKeyRecord | None:
        item = self.db.get(self.index, {"pk": keys.API_KEYS, "sk": keys.api_key_name(name)})
        return _key(str(item["digest"]), item) if item else None

    def revoke_api_key(self, name: str, at: str) -> ApiKeyRecord | None:
        current = self.named_key(name)
        if current is None or current.revoked_at:
            return None
        try:
            self.db.transact(
                [
                    update(
                        self.index,
                        {"pk": keys.API_KEYS, "sk": keys.api_key_name(name)},
                        "SET revoked_at = :at",
                        ConditionExpression="digest = :d AND attribute_not_exists(revoked_at)",
                        ExpressionAttributeValues=values(at=at, d=current.digest),
                    ),
                    update(
                        self.table,
                        {"pk": keys.api_key(current.digest)},
                        "SET revoked_at = :at",
                        ExpressionAttributeValues=values(at=at),
                    ),
                ]
            )
        except TransactionCancelled:
            return None
        return ApiKeyRecord(**{**asdict(current), "revoked_at": at})

    def rotate_api_key(self, old: ApiKeyRecord, new: ApiKeyRecord, old_expires_at: str) -> bool:
        try:
            self.db.transact(
                [
                    put(
                        self.index,
                        self._index_item(new),
                        condition="digest = :old AND attribute_not_exists(revoked_at)",
                        ExpressionAttributeValues=values(old=old.digest),
                    ),
                    put(self.table, {"pk": keys.api_key(new.digest), **_fields(new)}, "attribute_not_exists(pk)"),
                    update(
                        self.table,
                        {"pk": keys.api_key(old.digest)},
                        "SET expires_at = :e",
                        ExpressionAttributeValues=values(e=old_expires_at),
                    ),
                ]
            )
        except TransactionCancelled:
            return False
        return True

    def add_user(self, record: UserRecord) -> bool:
        doc = {"pk": keys.user(record.username), **asdict(record)}
        return self.db.put(self.table, doc, condition="attribute_not_exists(pk)")

    def user(self, username: str) -> UserRecord | None:
        item = self.db.get(self.table, {"pk": keys.user(username)}, consistent=False)
        if item is None:
            return None
        return UserRecord(
            username,
            item["role"],
            item["salt"],
            item["hash"],
            item.get("created_at", ""),
            bool(item.get("disabled", False)),
        )

    def set_user_disabled(self, username: str, disabled: bool) -> bool:
        return self.db.update(
            self.table,
            {"pk": keys.user(username)},
            "SET disabled = :d",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values(d=disabled),
        )

    def login_failures(self, who: str, window: str) -> int:
        item = self.db.get(self.table, {"pk": keys.login_failures(who, window)}, consistent=True)
        return int(item["n"]) if item else 0

    def count_login_failure(self, who: str, window: str, expires_at: int) -> int:
        new = self.db.update_returning(
            self.table,
            {"pk": keys.login_failures(who, window)},
            "ADD n :one SET expires_at = :e",
            ExpressionAttributeValues=values(one=1, e=expires_at),
        )
        return int(new["n"])

    def clear_login_failures(self, who: str, window: str) -> None:
        self.db.delete_item(self.table, {"pk": keys.login_failures(who, window)})

    def audit(self, event: AccessAudit) -> None:
        at = datetime.fromisoformat(event.at)
        self.db.put(
            self.index,
            {
                "pk": keys.access_audit_month(at),
                "sk": keys.access_audit(at, uuid.uuid4().hex[:8]),
                **asdict(event),
            },
        )

    def audit_trail(self, limit: int) -> list[AccessAudit]:
        out: list[AccessAudit] = []
        month = datetime.now(UTC)
        for _ in range(AUDIT_MONTHS):
            items = self.db.query(
                self.index,
                max_pages=1,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=values(pk=keys.access_audit_month(month)),
                ScanIndexForward=False,
                Limit=limit - len(out),
            )
            out += [AccessAudit(i["at"], i["actor"], i["action"], i["target"], i.get("detail") or {}) for i in items]
            if len(out) >= limit:
                break
            month = month.replace(day=1) - timedelta(days=1)
        return out[:limit]


def _fields(record: ApiKeyRecord) -> dict[str, Any]:
    return {f: getattr(record, f) for f in KEY_FIELDS if getattr(record, f)}
