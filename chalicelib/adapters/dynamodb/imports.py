"""History import jobs in `monitoring` (pk IMPORT#<id>, sk STATE): the progress each chunk
advances with a condition on the chunk it finished, so a redelivered chunk counts once."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, values
from chalicelib.domain.imports import ImportJob

JOB_TTL_DAYS = 90


class DynamoImportStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str]):
        self.db = dynamo
        self.table = tables["monitoring"]

    def _item(self, job: ImportJob) -> dict[str, object]:
        return {
            "pk": keys.import_job(job.import_id),
            "sk": keys.STATE,
            "doc": job.model_dump_json(),
            "next_chunk": job.next_chunk,
            "expires_at": int(job.created_at.timestamp()) + JOB_TTL_DAYS * 86400,
        }

    def create(self, job: ImportJob) -> None:
        self.db.put(self.table, self._item(job), condition="attribute_not_exists(pk)")

    def get(self, import_id: str) -> ImportJob | None:
        item = self.db.get(self.table, {"pk": keys.import_job(import_id), "sk": keys.STATE})
        return ImportJob.model_validate_json(item["doc"]) if item else None

    def save(self, job: ImportJob, expected_chunk: int) -> bool:
        return self.db.put(
            self.table,
            self._item(job),
            condition="next_chunk = :expected",
            ExpressionAttributeValues=values(expected=expected_chunk),
        )
