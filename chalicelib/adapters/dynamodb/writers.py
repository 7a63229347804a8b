"""Writers: their linking state (one item per writer, written conditionally on its version), the
log of deltas cached indexes follow, the slip-assignment transaction, candidate links, and the
staff decisions about them (tags, moved slips, merge/split jobs, audit), each write idempotent."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
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
from chalicelib.domain import writer_linking as wl
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.rules import WindowBet
from chalicelib.domain.slips import SlipStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.domain.writers import WriterJob
from chalicelib.ports import Candidate, SlipAssignment, StaleWrite, WriterState

STAFF, SLIP = "staff", "slip"


def _link_doc(d: wl.LinkDecision | None) -> dict[str, Any] | None:
    """Why the slip went where it did: shown with the slip's status."""
    if d is None:
        return None
    return {
        "action": d.action,
        "score": _finite(d.score),
        "similarity": _finite(d.similarity),
        "reason": d.reason,
        "candidate_of": d.writer_id if d.action == "candidate" else None,
        "candidates": [[w, _finite(z)] for w, z in d.candidates],
    }


def _finite(x: float) -> float | None:
    # An empty gallery scores -inf: stored as "no score" (DynamoDB numbers are finite).
    return round(float(x), 4) if math.isfinite(x) else None


DELTA_TTL = timedelta(days=3)


def _vec(v: Any) -> bytes:
    return np.asarray(v, dtype=np.float32).tobytes()


def _unvec(b: Any, rows: int | None = None, dim: int | None = None) -> np.ndarray:
    a = np.frombuffer(bytes(b), dtype=np.float32).astype(np.float64)
    return a.reshape(rows if rows is not None else -1, dim) if dim else a


def _state(i: dict[str, Any]) -> WriterState:
    mean = _unvec(i["mean"])
    n_anchor = int(i["n_anchor"])
    link = wl.WriterState(
        writer_id=i["writer_id"],
        mean=mean,
        anchor=_unvec(i["anchor"]),
        n=int(i["n"]),
        n_anchor=n_anchor,
        exemplars=_unvec(i["exemplars"], n_anchor, len(mean)) if i.get("exemplars") else np.zeros((0, len(mean))),
        version=int(i["version"]),
    )
    return WriterState(link, tuple(sorted(i.get("tagged") or ())))


class DynamoWriterStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str], history_days: int):
        self.db = dynamo
        self.tables = tables
        self.history_days = history_days
        self.subjects = tables["subjects"]

    # --- linking --------------------------------------------------------------------------------

    def writer(self, writer_id: str) -> WriterState | None:
        item = self.db.get(self.subjects, {"pk": keys.subject(SubjectRef.writer(writer_id)), "sk": keys.WRITER_STATE})
        return _state(item) if item else None

    def _state_item(self, w: WriterState, at: datetime) -> dict[str, Any]:
        link = w.link
        return {
            "pk": keys.subject(SubjectRef.writer(w.writer_id)),
            "sk": keys.WRITER_STATE,
            "writer_id": w.writer_id,
            "mean": _vec(link.mean),
            "anchor": _vec(link.anchor),
            "exemplars": _vec(link.exemplars) if len(link.exemplars) else None,
            "n": link.n,
            "n_anchor": link.n_anchor,
            "version": link.version,
            "tagged": set(w.tagged) or None,
            "updated_at": keys.iso(at),
        }

    def _delta_item(self, writer_id: str, mean: Any, anchor: Any, n: int, version: int, at: datetime) -> dict[str, Any]:
        return {
            "pk": keys.writer_delta(at, writer_id),
            "sk": keys.writer_delta_sort(at, writer_id, version),
            "writer_id": writer_id,
            "mean": _vec(mean),
            "anchor": _vec(anchor),
            "n": n,
            "version": version,
            "expires_at": int((at + DELTA_TTL).timestamp()),
        }

    def _state_writes(self, w: WriterState, expected_version: int | None, at: datetime) -> list[dict[str, Any]]:
        """The writer's item (conditional on the version read, or on being new) and its delta."""
        check: dict[str, Any] = {}
        if expected_version == 0:
            check = {"condition": "attribute_not_exists(pk)"}
        elif expected_version is not None:
            check = {"condition": "version = :v", "ExpressionAttributeValues": values(v=expected_version)}
        link = w.link
        return [
            put(self.subjects, self._state_item(w, at), **check),
            put(self.subjects, self._delta_item(w.writer_id, link.mean, link.anchor, link.n, link.version, at)),
        ]

    def deltas_since(self, at: datetime) -> list[wl.WriterDelta]:
        now = datetime.now(UTC)
        out: list[wl.WriterDelta] = []
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour <= now + timedelta(minutes=1):
            for pk in keys.writer_delta_partitions(hour):
                for i in self.db.query(
                    self.subjects,
                    KeyConditionExpression="pk = :pk AND sk >= :since",
                    ExpressionAttributeValues=values(pk=pk, since=keys.iso(at)),
                ):
                    out.append(
                        wl.WriterDelta(
                            i["writer_id"], _unvec(i["mean"]), _unvec(i["anchor"]), int(i["n"]), int(i["version"])
                        )
                    )
            hour += timedelta(hours=1)
        return out

    def assign(self, assignment: SlipAssignment, at: datetime) -> None:
        a, tables = assignment, self.tables
        msg, w = a.message, a.writer
        writer = SubjectRef.writer(w.writer_id)
        now = keys.iso(at)
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
                "SET #s = :c, writer_id = :w, similarity = :sim, updated_at = :now, link = :link",
                ConditionExpression="#s = :e AND object_key = :k AND attribute_not_exists(writer_id)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(
                    c=SlipStatus.clustered.value,
                    e=SlipStatus.embedded.value,
                    w=w.writer_id,
                    sim=round(a.similarity, 6),
                    now=now,
                    k=msg.object_key,
                    link=_link_doc(a.decision),
                ),
            ),
            *self._state_writes(w, a.expected_version, at),
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
        if a.decision is not None and a.decision.action == "candidate" and a.decision.writer_id:
            writes += self._candidate_writes(w.writer_id, a.decision.writer_id, msg.bet_id, a.decision, now)
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

    # --- candidate links ----------------------------------------------------------------------

    def _candidate_writes(self, new: str, near: str, bet_id: str, d: wl.LinkDecision, now: str) -> list[dict[str, Any]]:
        doc = {"bet_id": bet_id, "score": _finite(d.score), "reason": d.reason, "status": "pending", "at": now}
        a, b = SubjectRef.writer(new), SubjectRef.writer(near)
        return [
            put(self.subjects, {"pk": keys.subject(x), "sk": keys.candidate(y), **doc, "other": y.id})
            for x, y in ((a, b), (b, a))
        ]

    def candidates(self, writer_id: str) -> list[Candidate]:
        items = self.db.query(
            self.subjects,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
            ExpressionAttributeValues=values(pk=keys.subject(SubjectRef.writer(writer_id)), c=keys.CAND_PREFIX),
        )
        return [
            Candidate(
                writer_id,
                i["other"],
                i.get("bet_id", ""),
                float(i.get("score", 0)),
                i.get("reason", ""),
                i["status"],
                i.get("at", ""),
                i.get("decided_by"),
            )
            for i in items
        ]

    def decide_candidate(self, writer_id: str, other: str, status: str, by: str, at: datetime) -> bool:
        a, b = SubjectRef.writer(writer_id), SubjectRef.writer(other)
        try:
            self.db.transact(
                [
                    update(
                        self.subjects,
                        {"pk": keys.subject(x), "sk": keys.candidate(y)},
                        "SET #st = :s, decided_by = :by, decided_at = :at",
                        ConditionExpression="#st = :pending",
                        ExpressionAttributeNames={"#st": "status"},
                        ExpressionAttributeValues=values(s=status, by=by, at=keys.iso(at), pending="pending"),
                    )
                    for x, y in ((a, b), (b, a))
                ]
            )
        except TransactionCancelled as exc:
            if exc.any_condition_failed:
                return False
            raise
        return True

    def rejected(self, a: str, b: str) -> bool:
        item = self.db.get(
            self.subjects, {"pk": keys.subject(SubjectRef.writer(a)), "sk": keys.candidate(SubjectRef.writer(b))}
        )
        return bool(item and item.get("status") == "rejected")

    def keep_apart(self, a: str, b: str, by: str, reason: str, at: datetime) -> None:
        x, y = SubjectRef.writer(a), SubjectRef.writer(b)
        doc = {"status": "rejected", "reason": reason, "decided_by": by, "at": keys.iso(at), "bet_id": ""}
        self.db.transact(
            [
                put(self.subjects, {"pk": keys.subject(p), "sk": keys.candidate(q), **doc, "other": q.id})
                for p, q in ((x, y), (y, x))
            ]
        )

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
                        {"pk": keys.subject(writer), "sk": keys.WRITER_STATE},
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
                        {"pk": keys.subject(writer), "sk": keys.WRITER_STATE},
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
        # False: it counts there already (its own bet, or copied before).
        return self.db.transact_guarded(
            [
                put(self.subjects, item, condition="attribute_not_exists(sk)"),
                *self._profile(customer, 1, bet.stake_minor, at),
                put(self.tables["monitoring"], activity_item(customer, at)),
                put(self.tables["monitoring"], seen_item(customer, bet.placed_at, self.history_days)),
            ]
        )

    def uncopy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        customer = SubjectRef.customer(customer_id)
        return self.db.transact_guarded(
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
        return self.db.transact_guarded(writes)

    def set_writer(self, state: WriterState, at: datetime) -> None:
        self.db.transact(self._state_writes(state, None, at))

    def retire(self, writer_id: str, into: str, at: datetime) -> None:
        current = self.writer(writer_id)
        if current is None:
            return  # retired already
        link = current.link
        self.db.transact(
            [
                delete(self.subjects, {"pk": keys.subject(SubjectRef.writer(writer_id)), "sk": keys.WRITER_STATE}),
                # A tombstone: cached indexes drop the row (and never take an older delta back).
                put(self.subjects, self._delta_item(writer_id, link.mean, link.anchor, 0, link.version + 1, at)),
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
