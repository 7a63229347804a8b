"""Writers' centroids (pk WRITERS in `subjects`) and the slip-assignment transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, TransactionCancelled, put, update, values
from chalicelib.adapters.dynamodb.subjects import bet_writes
from chalicelib.domain.slips import SlipStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import SlipAssignment, StaleWrite, WriterState


class DynamoWriterStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str], history_days: int):
        self.db = dynamo
        self.tables = tables
        self.history_days = history_days

    def writers(self) -> list[WriterState]:
        items = self.db.query(
            self.tables["subjects"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=keys.WRITERS),
        )
        return [
            WriterState(
                writer_id=i["writer_id"],
                centroid=np.frombuffer(bytes(i["centroid"]), dtype=np.float32).tolist(),
                n=int(i["n"]),
            )
            for i in items
        ]

    def assign(self, assignment: SlipAssignment, at: datetime) -> None:
        a, tables = assignment, self.tables
        msg, w = a.message, a.writer
        writer = SubjectRef.writer(w.writer_id)
        now = keys.iso(at)
        centroid_check: dict[str, Any] = (
            {"condition": "attribute_not_exists(pk)"}
            if a.previous_n == 0
            # Optimistic concurrency: the centroid must still be the one this assignment read.
            else {"condition": "n = :n", "ExpressionAttributeValues": values(n=a.previous_n)}
        )
        slip_item = {"bet_id": msg.bet_id, "object_key": msg.object_key, "similarity": round(a.similarity, 6)}
        writes: list[dict[str, Any]] = [
            update(
                tables["slips"],
                {"pk": keys.slip(msg.bet_id)},
                "SET #s = :c, writer_id = :w, similarity = :sim, updated_at = :now",
                ConditionExpression="#s = :e AND object_key = :k AND attribute_not_exists(writer_id)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(
                    c=SlipStatus.clustered.value,
                    e=SlipStatus.embedded.value,
                    w=w.writer_id,
                    sim=round(a.similarity, 6),
                    now=now,
                    k=msg.object_key,
                ),
            ),
            put(
                tables["subjects"],
                {
                    "pk": keys.WRITERS,
                    "sk": keys.writer_centroid(w.writer_id),
                    "writer_id": w.writer_id,
                    "centroid": np.asarray(w.centroid, dtype=np.float32).tobytes(),
                    "n": w.n,
                    "updated_at": now,
                },
                **centroid_check,
            ),
            put(
                tables["subjects"],
                {"pk": keys.subject(writer), "sk": keys.subject_slip(msg.bet_id), **slip_item},
            ),
            *bet_writes(tables, writer, a.bet, self.history_days, at, has_slip=True),
        ]
        if a.bet.customer_id:
            customer = SubjectRef.customer(a.bet.customer_id)
            # The customer's profile lists its slips too, with the writer they were linked to.
            writes.append(
                put(
                    tables["subjects"],
                    {
                        "pk": keys.subject(customer),
                        "sk": keys.subject_slip(msg.bet_id),
                        **slip_item,
                        "writer_id": w.writer_id,
                    },
                )
            )
            for x, y in ((writer, customer), (customer, writer)):
                writes.append(put(tables["subjects"], {"pk": keys.subject(x), "sk": keys.link(y), "linked_at": now}))
        try:
            self.db.transact(writes)
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                raise StaleWrite(msg.bet_id) from exc
            raise
