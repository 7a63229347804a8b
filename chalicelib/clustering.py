"""Open-set writer clustering of embedded slips (the slip-clustering queue's consumer).

Writers' centroids live under pk WRITERS in the subjects table (one Query per batch). Each slip is
assigned in one transaction: the slip record (only if it has no writer yet: at-least-once delivery
gives one assignment), the writer's centroid (optimistic version check, so two consumers cannot
lose an update), the writer's bet and slip items, and the customer <-> writer links.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Key

from chalicelib import aws, bets, slips, subjects, writer_matching
from chalicelib.config import settings
from chalicelib.writer_matching import WriterCentroid

WRITERS_PK = "WRITERS"


class StaleSlip(Exception):
    """The slip is not (or no longer) waiting for a writer."""


def load_writers() -> list[WriterCentroid]:
    items = subjects.query_all(subjects.subjects_table(), KeyConditionExpression=Key("pk").eq(WRITERS_PK))
    return [
        WriterCentroid(
            writer_id=item["writer_id"],
            centroid=np.frombuffer(bytes(item["centroid"]), dtype=np.float32).copy(),
            n=int(item["n"]),
        )
        for item in items
    ]


def new_writer_id() -> str:
    return "w-" + uuid.uuid4().hex[:12]


def assign(msg: slips.ClusteringMessage, writers: list[WriterCentroid]) -> tuple[str, bool]:
    """Assign one slip to a writer; returns (writer_id, is_new). Mutates `writers` on success."""
    record = slips.get(msg.bet_id)
    if record is None or record.status != slips.SlipStatus.embedded or record.object_key != msg.object_key:
        raise StaleSlip(msg.bet_id)
    found = bets.get_bet(msg.bet_id)
    if found is None:
        raise StaleSlip(msg.bet_id)
    bet = found[0]
    emb = np.asarray(msg.embedding, dtype=np.float32)
    writer_id, best = writer_matching.match(emb, writers)
    is_new = writer_id is None
    # Similarity of the slip to the writer it joined; a new writer's first slip is its centroid.
    similarity = 1.0 if is_new else best
    if is_new:
        current = WriterCentroid(writer_id=new_writer_id(), centroid=emb / (np.linalg.norm(emb) or 1.0), n=0)
    else:
        current = next(w for w in writers if w.writer_id == writer_id)
    centroid = current.centroid if is_new else writer_matching.updated_centroid(current, emb)
    _transact(msg, bet.model_dump(mode="json"), current, centroid.astype(np.float32), similarity)
    if is_new:
        writers.append(WriterCentroid(current.writer_id, centroid, 1))
    else:
        current.centroid, current.n = centroid, current.n + 1
    return current.writer_id, is_new


def _transact(
    msg: slips.ClusteringMessage, bet: dict[str, Any], w: WriterCentroid, centroid: np.ndarray, similarity: float
) -> None:
    cfg = settings()
    subj = subjects.writer_key(w.writer_id)
    now = datetime.now(UTC).isoformat()
    centroid_item = {
        "pk": {"S": WRITERS_PK},
        "sk": {"S": f"W#{w.writer_id}"},
        "writer_id": {"S": w.writer_id},
        "centroid": {"B": centroid.tobytes()},
        "n": {"N": str(w.n + 1)},
        "updated_at": {"S": now},
    }
    writes: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": cfg.table("slips"),
                "Key": {"pk": {"S": f"SLIP#{msg.bet_id}"}},
                "UpdateExpression": "SET #s = :c, writer_id = :w, similarity = :sim, updated_at = :now",
                "ConditionExpression": "#s = :e AND object_key = :k AND attribute_not_exists(writer_id)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":c": {"S": slips.SlipStatus.clustered.value},
                    ":e": {"S": slips.SlipStatus.embedded.value},
                    ":w": {"S": w.writer_id},
                    ":sim": {"N": f"{similarity:.6f}"},
                    ":now": {"S": now},
                    ":k": {"S": msg.object_key},
                },
            }
        },
        {
            "Put": {
                "TableName": cfg.table("subjects"),
                "Item": centroid_item,
                # Optimistic concurrency: the centroid must still be the one this assignment read.
                "ConditionExpression": "attribute_not_exists(pk)" if w.n == 0 else "n = :n",
                **({} if w.n == 0 else {"ExpressionAttributeValues": {":n": {"N": str(w.n)}}}),
            }
        },
        {
            "Put": {
                "TableName": cfg.table("subjects"),
                "Item": {
                    "pk": {"S": subj},
                    "sk": {"S": f"SLIP#{msg.bet_id}"},
                    "bet_id": {"S": msg.bet_id},
                    "object_key": {"S": msg.object_key},
                    "similarity": {"N": f"{similarity:.6f}"},
                    "placed_at": {"S": bet["placed_at"]},
                },
            }
        },
        *subjects.bet_writes(subj, bet, display=w.writer_id),
    ]
    if customer := bet.get("customer_id"):
        cust = subjects.customer_key(customer)
        for a, b in ((subj, cust), (cust, subj)):
            writes.append(
                {
                    "Put": {
                        "TableName": cfg.table("subjects"),
                        "Item": {"pk": {"S": a}, "sk": {"S": f"LINK#{b}"}, "linked_at": {"S": now}},
                    }
                }
            )
    aws.client("dynamodb").transact_write_items(TransactItems=writes)


def handle_sqs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The queue consumer: one centroid load per batch, partial batch failures for retries."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    writers = load_writers()

    def record_handler(record: Any) -> None:
        msg = slips.ClusteringMessage.model_validate_json(record.body)
        try:
            assign(msg, writers)
        except StaleSlip:
            pass  # already assigned (a redelivery) or superseded by a newer upload
        except Exception:
            writers[:] = load_writers()  # a lost race may have changed centroids
            raise

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
