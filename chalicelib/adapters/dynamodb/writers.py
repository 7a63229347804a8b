"""Writers: their centroids (pk WRITERS in `subjects`), the slip-assignment transaction, and the
staff decisions about them (tags, moved slips, merge/split jobs, audit), each write idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import (
    Dynamo,
    TransactionCancelled,
    delete,
    put,
    update,
    values,
)
from chalicelib.adapters.dynamodb.subjects import activity_item, bet_item, bet_writes, seen_item
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.rules import WindowBet
from chalicelib.domain.slips import SlipStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.domain.writers import WriterJob
from chalicelib.ports import SlipAssignment, StaleWrite, WriterState

STAFF, SLIP = "staff", "slip"


def _state(i: dict[str, Any]) -> WriterState:
    return WriterState(
        writer_id=i["writer_id"],
        centroid=np.frombuffer(bytes(i["centroid"]), dtype=np.float32).tolist(),
        n=int(i["n"]),
        tagged=tuple(sorted(i.get("tagged") or ())),
    )


class DynamoWriterStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str], history_days: int):
        self.db = dynamo
        self.tables = tables
        self.history_days = history_days
        self.subjects = tables["subjects"]

    # --- matching -------------------------------------------------------------------------------

    def writers(self) -> list[WriterState]:
        items = self.db.query(
            self.subjects, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.WRITERS)
        )
        return [_state(i) for i in items]

    def writer(self, writer_id: str) -> WriterState | None:
        item = self.db.get(self.subjects, {"pk": keys.WRITERS, "sk": keys.writer_centroid(writer_id)})
        return _state(item) if item else None

    def _centroid_item(self, w: WriterState, at: datetime) -> dict[str, Any]:
        return {
            "pk": keys.WRITERS,
            "sk": keys.writer_centroid(w.writer_id),
            "writer_id": w.writer_id,
            "centroid": np.asarray(w.centroid, dtype=np.float32).tobytes(),
            "n": w.n,
            "tagged": set(w.tagged) or None,
            "updated_at": keys.iso(at),
        }

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
        slip_item = {
            "bet_id": msg.bet_id,
            "object_key": msg.object_key,
            "similarity": round(a.similarity, 6),
            "placed_at": keys.iso(a.bet.placed_at),
            "customer_id": a.bet.customer_id,
        }
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
            put(self.subjects, self._centroid_item(w, at), **centroid_check),
            put(self.subjects, {"pk": keys.subject(writer), "sk": keys.subject_slip(msg.bet_id), **slip_item}),
            *bet_writes(tables, writer, a.bet, self.history_days, at, has_slip=True),
        ]
        if a.bet.customer_id:
            customer = SubjectRef.customer(a.bet.customer_id)
            # The customer's profile lists its slips too, with the writer they were linked to.
            writes.append(
                put(
                    self.subjects,
                    {
                        "pk": keys.subject(customer),
                        "sk": keys.subject_slip(msg.bet_id),
                        **slip_item,
                        "writer_id": w.writer_id,
                    },
                )
            )
            writes += self._links(writer, customer, SLIP, now)
        for tagged in w.tagged:  # staff tagged this writer to customers: its bets count for them too
            if tagged != a.bet.customer_id:
                writes += self._copy_writes(w.writer_id, a.bet, SubjectRef.customer(tagged), at)
        try:
            self.db.transact(writes)
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                raise StaleWrite(msg.bet_id) from exc
            raise

    def _links(self, writer: SubjectRef, customer: SubjectRef, source: str, now: str) -> list[dict[str, Any]]:
        return [
            put(self.subjects, {"pk": keys.subject(x), "sk": keys.link(y), "linked_at": now, "source": source})
            for x, y in ((writer, customer), (customer, writer))
        ]

    # --- tags -----------------------------------------------------------------------------------

    def tag(self, writer_id: str, customer_id: str, by: str, at: datetime) -> bool:
        writer, customer = SubjectRef.writer(writer_id), SubjectRef.customer(customer_id)
        try:
            self.db.transact(
                [
                    put(
                        self.subjects,
                        {"pk": keys.subject(writer), "sk": keys.tag(customer), "by": by, "at": keys.iso(at)},
                        condition="attribute_not_exists(pk)",
                    ),
                    update(
                        self.subjects,
                        {"pk": keys.WRITERS, "sk": keys.writer_centroid(writer_id)},
                        "ADD tagged :c",
                        ConditionExpression="attribute_exists(pk)",
                        ExpressionAttributeValues=values(c={customer_id}),
                    ),
                    *self._links(writer, customer, STAFF, keys.iso(at)),
                ]
            )
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        return True

    def untag(self, writer_id: str, customer_id: str) -> bool:
        writer, customer = SubjectRef.writer(writer_id), SubjectRef.customer(customer_id)
        try:
            self.db.transact(
                [
                    delete(
                        self.subjects, {"pk": keys.subject(writer), "sk": keys.tag(customer)}, "attribute_exists(pk)"
                    ),
                    update(
                        self.subjects,
                        {"pk": keys.WRITERS, "sk": keys.writer_centroid(writer_id)},
                        "DELETE tagged :c",
                        ExpressionAttributeValues=values(c={customer_id}),
                    ),
                ]
            )
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        for x, y in ((writer, customer), (customer, writer)):
            # Links made by a slip stay: only the staff link goes.
            try:
                self.db.transact(
                    [
                        delete(
                            self.subjects,
                            {"pk": keys.subject(x), "sk": keys.link(y)},
                            "#src = :staff",
                            ExpressionAttributeNames={"#src": "source"},
                            ExpressionAttributeValues=values(staff=STAFF),
                        )
                    ]
                )
            except TransactionCancelled as exc:
                if not exc.any_condition_failed:
                    raise
        return True

    def _copy_writes(self, writer_id: str, bet: Any, customer: SubjectRef, at: datetime) -> list[dict[str, Any]]:
        from chalicelib.domain.bets import Bet

        assert isinstance(bet, Bet)
        item = bet_item(customer, bet, self.history_days, has_slip=True) | {"via_writer": writer_id}
        return [
            put(self.subjects, item),  # once per slip: the assignment itself is conditional
            *self._profile(customer, 1, bet.stake_minor, at),
            put(self.tables["monitoring"], activity_item(customer, at)),
            put(self.tables["monitoring"], seen_item(customer, bet.placed_at, self.history_days)),
        ]

    def _profile(self, ref: SubjectRef, bets: int, stake: int, at: datetime) -> list[dict[str, Any]]:
        return [
            update(
                self.subjects,
                {"pk": keys.subject(ref), "sk": keys.PROFILE},
                "ADD bets_total :n, stake_total_minor :s SET updated_at = :now, display = if_not_exists(display, :d)",
                ExpressionAttributeValues=values(n=bets, s=stake, now=keys.iso(at), d=ref.id),
            )
        ]

    def _window_item(self, ref: SubjectRef, bet: WindowBet) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.db.get(
            self.subjects, {"pk": keys.subject(ref), "sk": keys.subject_bet(bet.placed_at, bet.bet_id)}
        )
        return item

    def copy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        source = self._window_item(SubjectRef.writer(writer_id), bet)
        if source is None:
            return False
        customer = SubjectRef.customer(customer_id)
        item = source | {"pk": keys.subject(customer), "via_writer": writer_id, "has_slip": True}
        try:
            self.db.transact(
                [
                    put(self.subjects, item, condition="attribute_not_exists(sk)"),
                    *self._profile(customer, 1, bet.stake_minor, at),
                    put(self.tables["monitoring"], activity_item(customer, at)),
                    put(self.tables["monitoring"], seen_item(customer, bet.placed_at, self.history_days)),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False  # it counts there already (its own bet, or copied before)
            raise
        return True

    def uncopy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        customer = SubjectRef.customer(customer_id)
        try:
            self.db.transact(
                [
                    delete(
                        self.subjects,
                        {"pk": keys.subject(customer), "sk": keys.subject_bet(bet.placed_at, bet.bet_id)},
                        "via_writer = :w",
                        ExpressionAttributeValues=values(w=writer_id),
                    ),
                    *self._profile(customer, -1, -bet.stake_minor, at),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False
            raise
        return True

    # --- moving slips (merge, split) ----------------------------------------------------------

    def move_slip(self, bet_id: str, source: str, target: str, at: datetime) -> bool:
        src, dst = SubjectRef.writer(source), SubjectRef.writer(target)
        slip = self.db.get(self.subjects, {"pk": keys.subject(src), "sk": keys.subject_slip(bet_id)})
        if slip is None:
            return False  # moved already (or never this writer's)
        placed = datetime.fromisoformat(slip["placed_at"]) if slip.get("placed_at") else None
        window = (
            self.db.get(self.subjects, {"pk": keys.subject(src), "sk": keys.subject_bet(placed, bet_id)})
            if placed
            else None
        )
        now = keys.iso(at)
        writes: list[dict[str, Any]] = [
            update(
                self.tables["slips"],
                {"pk": keys.slip(bet_id)},
                "SET writer_id = :t, pinned = :yes, updated_at = :now",
                ConditionExpression="writer_id = :s",
                ExpressionAttributeValues=values(t=target, s=source, yes=True, now=now),
            ),
            delete(self.subjects, {"pk": keys.subject(src), "sk": keys.subject_slip(bet_id)}),
            put(self.subjects, slip | {"pk": keys.subject(dst), "moved_from": source}),
        ]
        if window is not None:
            stake = int(window["stake_minor"])
            writes += [
                delete(self.subjects, {"pk": keys.subject(src), "sk": window["sk"]}),
                put(self.subjects, window | {"pk": keys.subject(dst)}),
                *self._profile(src, -1, -stake, at),
                *self._profile(dst, 1, stake, at),
                put(self.tables["monitoring"], activity_item(dst, at)),
                put(
                    self.tables["monitoring"],
                    seen_item(dst, datetime.fromisoformat(window["placed_at"]), self.history_days),
                ),
            ]
        if customer_id := slip.get("customer_id"):
            customer = SubjectRef.customer(customer_id)
            writes.append(
                update(
                    self.subjects,
                    {"pk": keys.subject(customer), "sk": keys.subject_slip(bet_id)},
                    "SET writer_id = :t",
                    ExpressionAttributeValues=values(t=target),
                )
            )
            writes += self._links(dst, customer, SLIP, now)
        try:
            self.db.transact(writes)
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False
            raise
        return True

    def set_writer(self, state: WriterState, at: datetime) -> None:
        self.db.put(self.subjects, self._centroid_item(state, at))

    def retire(self, writer_id: str, into: str, at: datetime) -> None:
        self.db.transact(
            [
                delete(self.subjects, {"pk": keys.WRITERS, "sk": keys.writer_centroid(writer_id)}),
                update(
                    self.subjects,
                    {"pk": keys.subject(SubjectRef.writer(writer_id)), "sk": keys.PROFILE},
                    "SET merged_into = :into, updated_at = :now",
                    ExpressionAttributeValues=values(into=into, now=keys.iso(at)),
                ),
            ]
        )

    def embedding(self, bet_id: str) -> list[float] | None:
        item = self.db.get(self.tables["slips"], {"pk": keys.slip(bet_id)}, projection="embedding")
        return [float(x) for x in item["embedding"]] if item and "embedding" in item else None

    # --- jobs and audit -----------------------------------------------------------------------

    def save_job(self, job: WriterJob, expected_moved: int | None) -> bool:
        check: dict[str, Any] = (
            {"condition": "attribute_not_exists(pk)"}
            if expected_moved is None
            else {"condition": "moved = :m", "ExpressionAttributeValues": values(m=expected_moved)}
        )
        doc = {"pk": keys.job(job.job_id), "sk": keys.STATE, "moved": job.moved, "doc": job.model_dump(mode="json")}
        return self.db.put(self.tables["monitoring"], doc, **check)

    def job(self, job_id: str) -> WriterJob | None:
        item = self.db.get(self.tables["monitoring"], {"pk": keys.job(job_id), "sk": keys.STATE})
        return WriterJob.model_validate(item["doc"]) if item else None

    def record_audit(self, subject: SubjectRef, event: AuditEvent) -> None:
        self.db.put(
            self.subjects,
            {
                "pk": keys.subject(subject),
                "sk": keys.audit(event.at, uuid.uuid4().hex[:8]),
                "doc": event.model_dump(mode="json"),
            },
        )

    def audit(self, subject: SubjectRef) -> list[AuditEvent]:
        items = self.db.query(
            self.subjects,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            ExpressionAttributeValues=values(pk=keys.subject(subject), a=keys.AUDIT_PREFIX),
        )
        return [AuditEvent.model_validate(i["doc"]) for i in items]
