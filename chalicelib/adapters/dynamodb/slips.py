"""Slip records in the `slips` table (pk SLIP#<bet id>), moved through their states with
conditional updates so a repeated S3 event or queue message changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, values
from chalicelib.domain.slips import ClusteringMessage, SlipRecord, SlipStatus


class DynamoSlipStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["slips"]

    def _item(self, bet_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.db.get(self.table, {"pk": keys.slip(bet_id)})
        return item

    def get(self, bet_id: str) -> SlipRecord | None:
        item = self._item(bet_id)
        if item is None:
            return None
        item.pop("pk")
        item.pop("embedding", None)
        return SlipRecord.model_validate(item)

    def reserve_upload(self, bet_id: str, object_key: str, at: datetime) -> bool:
        return self.db.put(
            self.table,
            {
                "pk": keys.slip(bet_id),
                "bet_id": bet_id,
                "status": SlipStatus.awaiting_upload.value,
                "object_key": object_key,
                "updated_at": keys.iso(at),
            },
            # Embedded or clustered is final; a rejected or pending slip may be replaced.
            condition="attribute_not_exists(pk) OR #s IN (:w, :r)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values(w=SlipStatus.awaiting_upload.value, r=SlipStatus.rejected.value),
        )

    def mark_rejected(self, bet_id: str, object_key: str, reason: str, etag: str | None, at: datetime) -> bool:
        return self._transition(bet_id, object_key, SlipStatus.rejected, {"reason": reason, "etag": etag}, at)

    def mark_embedded(
        self, bet_id: str, object_key: str, vector: list[float], model_version: str, etag: str | None, at: datetime
    ) -> bool:
        attrs = {"embedding": [round(x, 6) for x in vector], "model_version": model_version, "etag": etag}
        return self._transition(bet_id, object_key, SlipStatus.embedded, attrs, at)

    def _transition(
        self, bet_id: str, object_key: str, status: SlipStatus, attrs: dict[str, Any], at: datetime
    ) -> bool:
        """Move an awaiting slip to `status` with this object (whichever of the bet's presigned POSTs
        it came through: the first object processed is the slip); False if it is not awaiting."""
        present = {k: v for k, v in attrs.items() if v is not None}
        sets = "".join(f", {k} = :{k}" for k in present)
        remove = " REMOVE reason" if status is not SlipStatus.rejected else ""
        return self.db.update(
            self.table,
            {"pk": keys.slip(bet_id)},
            f"SET #s = :status, object_key = :key, updated_at = :now{sets}{remove}",
            ConditionExpression="#s = :awaiting",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values(
                **present,
                status=status.value,
                now=keys.iso(at),
                key=object_key,
                awaiting=SlipStatus.awaiting_upload.value,
            ),
        )

    def clustering_message(self, bet_id: str) -> ClusteringMessage | None:
        item = self._item(bet_id)
        if not item or item.get("status") != SlipStatus.embedded.value:
            return None
        return ClusteringMessage(
            bet_id=bet_id,
            object_key=item["object_key"],
            embedding=[float(x) for x in item["embedding"]],
            model_version=item["model_version"],
        )
