"""API keys (pk KEY#<sha256>) and staff users (pk USER#<name>) in the `principals` table."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo
from chalicelib.ports import ApiKeyRecord, UserRecord


class DynamoPrincipalStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["principals"]

    def add_api_key(self, record: ApiKeyRecord) -> None:
        doc = {"pk": keys.api_key(record.digest), **record.__dict__}
        doc.pop("digest")
        if not self.db.put(self.table, doc, condition="attribute_not_exists(pk)"):
            raise RuntimeError("API key digest collision")  # 256-bit random keys: never in practice

    def api_key(self, digest: str) -> ApiKeyRecord | None:
        item = self.db.get(self.table, {"pk": keys.api_key(digest)}, consistent=False)
        if item is None:
            return None
        return ApiKeyRecord(digest, item["key_id"], item["name"], item["role"], item.get("created_at", ""))

    def add_user(self, record: UserRecord) -> bool:
        doc = {"pk": keys.user(record.username), **record.__dict__}
        return self.db.put(self.table, doc, condition="attribute_not_exists(pk)")

    def user(self, username: str) -> UserRecord | None:
        item = self.db.get(self.table, {"pk": keys.user(username)}, consistent=False)
        if item is None:
            return None
        return UserRecord(username, item["role"], item["salt"], item["hash"], item.get("created_at", ""))
