"""In-memory implementations of every port, with the same guarantees as the DynamoDB adapters
(conditional writes, all-or-nothing records, cooldowns) kept by one lock. For unit tests, and for
anyone who wants to run the services without AWS."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.adapters.cursor import decode_cursor, encode_cursor, position_of, position_token
from chalicelib.domain.alerts import Alert, AlertEvent, AlertStatus, in_cooldown
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.bets import Bet, BetIn, RiskAssessment
from chalicelib.domain.feed import FeedFilter, FeedRow
from chalicelib.domain.imports import ImportJob
from chalicelib.domain.intake import KnockbackRecord, SmsRequest, SmsStatus, knockback_row, sms_row
from chalicelib.domain.results import EventResult, event_key
from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.domain.rules import Rule, WindowBet, stored_window_bet
from chalicelib.domain.slips import FINAL, ClusteringMessage, SlipRecord, SlipStatus
from chalicelib.domain.subjects import Profile, SubjectRef, SubjectStatus
from chalicelib.domain.writer_index import WriterDelta
from chalicelib.domain.writers import WriterJob
from chalicelib.ports import (
    AccessAudit,
    AlertQuery,
    ApiKeyRecord,
    Candidate,
    SettlementWrite,
    SlipAssignment,
    StaleWrite,
    StoredBet,
    StoredKnockback,
    StoredResult,
    StoredSms,
    UserRecord,
    WriterState,
)

ACTIVITY_MINUTES = 5


def _bucket(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC)
    return ts.replace(minute=ts.minute - ts.minute % ACTIVITY_MINUTES, second=0, microsecond=0)


@dataclass
class Calls:
    """How many store operations each fake served (the call-count tests read it)."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def hit(self, name: str) -> None:
        self.counts[name] += 1


class MemorySubjects:
    def __init__(self, calls: Calls | None = None) -> None:
        self.lock = threading.RLock()
        self.calls = calls or Calls()
        self.bets: dict[SubjectRef, dict[str, WindowBet]] = defaultdict(dict)
        self.profiles: dict[SubjectRef, Profile] = {}
        self.link_map: dict[SubjectRef, set[SubjectRef]] = defaultdict(set)
        self.slip_map: dict[SubjectRef, set[str]] = defaultdict(set)
        self.active: dict[datetime, set[tuple[datetime, SubjectRef]]] = defaultdict(set)
        self.checkpoints: dict[str, datetime] = {}
        self.seen: dict[str, set[SubjectRef]] = defaultdict(set)
        self.status_map: dict[SubjectRef, SubjectStatus] = {}
        self.audits: dict[SubjectRef, list[AuditEvent]] = defaultdict(list)

    def recent(
        self, subject: SubjectRef, start: datetime, end: datetime | None
    ) -> tuple[list[WindowBet], SubjectStatus]:
        self.calls.hit("subjects.recent")
        with self.lock:
            found = [
                b
                for b in self.bets.get(subject, {}).values()
                if start <= b.placed_at and (end is None or b.placed_at <= end)
            ]
        return sorted(found, key=lambda b: (b.placed_at, b.bet_id)), self.status_map.get(subject, SubjectStatus())

    def status(self, subject: SubjectRef) -> SubjectStatus:
        return self.status_map.get(subject, SubjectStatus())

    def statuses(self, subjects: list[SubjectRef]) -> dict[SubjectRef, SubjectStatus]:
        return {s: self.status_map[s] for s in subjects if s in self.status_map}

    def set_status(self, subject: SubjectRef, status: SubjectStatus, audit: AuditEvent) -> None:
        self.status_map[subject] = status
        self.audits[subject].append(audit)

    def audit(self, subject: SubjectRef) -> list[AuditEvent]:
        return list(self.audits.get(subject, []))

    def seen_on(self, day: datetime) -> set[SubjectRef]:
        self.calls.hit("subjects.seen_on")
        return set(self.seen.get(day.astimezone(UTC).date().isoformat(), set()))

    def count(self, ref: SubjectRef, bet: Bet, at: datetime, has_slip: bool = False, activity: bool = True) -> None:
        """What the DynamoDB adapter's bet_writes do (call with the lock held)."""
        if activity:
            self.active[_bucket(at)].add((at, ref))
        self.seen[bet.placed_at.astimezone(UTC).date().isoformat()].add(ref)
        if bet.bet_id in self.bets[ref]:
            return
        self.bets[ref][bet.bet_id] = stored_window_bet(bet, has_slip)
        old = self.profiles.get(ref)
        placed = bet.placed_at.isoformat()
        self.profiles[ref] = Profile(
            subject=ref,
            bets_total=(old.bets_total if old else 0) + 1,
            stake_total_minor=(old.stake_total_minor if old else 0) + bet.stake_minor,
            first_bet_at=min(old.first_bet_at, placed) if old and old.first_bet_at else placed,
            knockbacks_total=old.knockbacks_total if old else 0,
        )

    def bets_between(self, subject: SubjectRef, start: datetime, end: datetime) -> list[WindowBet]:
        self.calls.hit("subjects.bets_between")
        with self.lock:
            found = [b for b in self.bets.get(subject, {}).values() if start <= b.placed_at <= end]
        return sorted(found, key=lambda b: (b.placed_at, b.bet_id))

    def profile(self, subject: SubjectRef) -> Profile | None:
        self.calls.hit("subjects.profile")
        return self.profiles.get(subject)

    def links(self, subject: SubjectRef) -> list[SubjectRef]:
        return sorted(self.link_map.get(subject, set()))

    def slips(self, subject: SubjectRef) -> list[str]:
        return sorted(self.slip_map.get(subject, set()))

    def active_between(self, start: datetime, end: datetime) -> set[SubjectRef]:
        found: set[SubjectRef] = set()
        bucket = _bucket(start)
        while bucket <= end:
            self.calls.hit("activity.bucket")
            found |= {ref for at, ref in self.active.get(bucket, set()) if start <= at <= end}
            bucket += timedelta(minutes=ACTIVITY_MINUTES)
        return found

    def checkpoint(self, name: str) -> datetime | None:
        return self.checkpoints.get(name)

    def set_checkpoint(self, name: str, at: datetime) -> None:
        self.checkpoints[name] = at


class MemoryFeed:
    """Rows by position (`<recorded_at>#<id>`, as the DynamoDB feed sorts them)."""

    def __init__(self) -> None:
        self.rows: dict[str, FeedRow] = {}

    @staticmethod
    def _pos(at: datetime, bet_id: str) -> str:
        return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{bet_id}"  # sortable, fixed width

    def add(self, bet: Bet) -> None:
        pos = self._pos(bet.received_at, bet.bet_id)
        self.rows[pos] = FeedRow(
            record_type="bet", record_id=bet.bet_id, cursor=position_token(pos),
            recorded_at=bet.received_at.isoformat(),
            placed_at=bet.placed_at.isoformat(), customer_id=bet.customer_id, shop_id=bet.shop_id,
            channel=bet.channel.value, stake_minor=bet.stake_minor, bet_type=bet.bet_type.value, sport=bet.sport,
            selections=[f"{s.selection} ({s.event})" for s in bet.selections],
            risk_score=bet.risk.score, risk_level=bet.risk.level,
        )  # fmt: skip

    def add_row(self, at: datetime, key: str, row: dict[str, Any]) -> None:
        """A knockback's or SMS request's row (`key` unique across record types, as in DynamoDB)."""
        pos = self._pos(at, key)
        self.rows[pos] = FeedRow(cursor=position_token(pos), recorded_at=at.isoformat(), **row)

    def set_writer(self, bet: Bet, writer_id: str) -> None:
        pos = self._pos(bet.received_at, bet.bet_id)
        if pos in self.rows:
            self.rows[pos].writer_id = writer_id

    @staticmethod
    def _match(r: FeedRow, f: FeedFilter) -> bool:
        return (
            all(
                want is None or getattr(r, name) == want
                for name, want in (
                    ("customer_id", f.customer_id),
                    ("writer_id", f.writer_id),
                    ("shop_id", f.shop_id),
                    ("channel", f.channel),
                    ("record_type", f.record_type),
                    ("sport", f.sport),
                )
            )
            and (f.min_stake_minor is None or (r.stake_minor or 0) >= f.min_stake_minor)
            and (not f.risk_levels or r.risk_level in f.risk_levels)
            and (not f.selection or f.selection.lower() in " ".join(r.selections).lower())
        )

    def page(
        self, start: datetime, end: datetime, before: str | None, limit: int, f: FeedFilter
    ) -> tuple[list[FeedRow], str | None]:
        lo, hi = self._pos(start, ""), self._pos(end, "~")
        before = position_of(before) if before else None
        found = [
            r.model_copy() for pos, r in sorted(self.rows.items(), reverse=True)
            if lo <= pos <= hi and (before is None or pos < before) and self._match(r, f)
        ]  # fmt: skip
        page = found[:limit]
        return page, (page[-1].cursor if len(found) > limit else None)

    def newer(self, since: str, end: datetime, limit: int, f: FeedFilter) -> list[FeedRow]:
        since, hi = position_of(since), self._pos(end, "~")
        found = [r.model_copy() for pos, r in sorted(self.rows.items()) if since < pos <= hi and self._match(r, f)]
        return found[:limit]

    def mark(self, at: datetime, after: str | None = None) -> str:
        pos = self._pos(at, "~")  # after every row recorded at or before `at`
        return after if after is not None and position_of(after) > pos else position_token(pos)


class MemoryBets:
    def __init__(self, subjects: MemorySubjects, feed: MemoryFeed | None = None) -> None:
        self.subjects = subjects
        self.feed = feed or MemoryFeed()
        self.items: dict[str, StoredBet] = {}
        self.open_events: dict[str, set[str]] = defaultdict(set)  # event key -> open bet ids

    def get(self, bet_id: str) -> StoredBet | None:
        return self.items.get(bet_id)

    def record(
        self, bet: Bet, fingerprint: str, subjects: list[SubjectRef], activity: bool = True, maybe_earliest: bool = True
    ) -> bool:
        with self.subjects.lock:
            if bet.bet_id in self.items:
                return False
            self.items[bet.bet_id] = StoredBet(bet, fingerprint)
            if activity:  # as the DynamoDB adapter: history imports write no live-feed row
                self.feed.add(bet)
            for s in bet.selections:
                self.open_events[event_key(s.event)].add(bet.bet_id)
            for ref in subjects:
                self.subjects.count(ref, bet, bet.received_at, activity=activity)
        return True


class MemorySettlements:
    """Results by event and date, and settlements applied to the bet, its subjects and its feed row."""

    def __init__(self, bets: MemoryBets) -> None:
        self.bets = bets
        self.results: dict[str, dict[str, StoredResult]] = defaultdict(dict)  # key -> date|'-' -> result
        self.settled: dict[tuple[str, str], set[str]] = defaultdict(set)  # (key, date|'-') -> bet ids
        self.applied = 0

    def save_result(self, result: EventResult, version: str, at: datetime) -> None:
        self.results[result.key][result.date.isoformat() if result.date else "-"] = StoredResult(result, version)

    def result_for(self, event_key: str, day: date) -> StoredResult | None:
        dated = sorted((d, r) for d, r in self.results.get(event_key, {}).items() if d != "-" and d >= day.isoformat())
        return dated[0][1] if dated else self.results.get(event_key, {}).get("-")

    def bets_on(self, event_key: str, result_date: str | None) -> list[str]:
        with self.bets.subjects.lock:
            found = self.bets.open_events.get(event_key, set()) | self.settled.get(
                (event_key, result_date or "-"), set()
            )
            return sorted(found)

    def apply(self, w: SettlementWrite) -> bool:
        subjects, bet, s = self.bets.subjects, w.bet, w.settlement
        with subjects.lock:
            stored = self.bets.items.get(bet.bet_id)
            if stored is None or stored.settled_version != w.previous_version:
                return False
            self.bets.items[bet.bet_id] = replace(stored, settlement=s, settled_version=w.version)
            delta = (s.profit_minor or 0) - ((w.previous.profit_minor or 0) if w.previous else 0)
            for ref in w.subjects:
                window = subjects.bets.get(ref, {}).get(bet.bet_id)
                if window is not None:
                    subjects.bets[ref][bet.bet_id] = replace(
                        window, profit_minor=s.profit_minor, sp_compared=w.sp_compared, sp_beaten=w.sp_beaten
                    )
                old = subjects.profiles.get(ref) or Profile(subject=ref, bets_total=0, stake_total_minor=0)
                subjects.profiles[ref] = replace(
                    old,
                    settled_bets=old.settled_bets + (1 if w.previous is None else 0),
                    profit_total_minor=old.profit_total_minor + delta,
                )
                subjects.active[_bucket(w.at)].add((w.at, ref))
            row = self.bets.feed.rows.get(self.bets.feed._pos(bet.received_at, bet.bet_id))
            if row is not None:
                row.bet_state, row.profit_minor = s.state, s.profit_minor
            for key in w.events:
                self.bets.open_events.get(key, set()).discard(bet.bet_id)
                if (r := w.results.get(key)) is not None:
                    self.settled[(key, r.result.date.isoformat() if r.result.date else "-")].add(bet.bet_id)
            self.applied += 1
            return True


class MemorySlips:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, SlipRecord] = {}
        self.embeddings: dict[str, list[float]] = {}

    def get(self, bet_id: str) -> SlipRecord | None:
        return self.items.get(bet_id)

    def reserve_upload(self, bet_id: str, object_key: str, at: datetime) -> bool:
        with self.lock:
            cur = self.items.get(bet_id)
            if cur is not None and cur.status in FINAL:
                return False
            self.items[bet_id] = SlipRecord(
                bet_id=bet_id, status=SlipStatus.awaiting_upload, object_key=object_key, updated_at=at.isoformat()
            )
            return True

    def _transition(self, bet_id: str, object_key: str, **changes: Any) -> bool:
        with self.lock:
            cur = self.items.get(bet_id)
            if cur is None or cur.status != SlipStatus.awaiting_upload:
                return False
            self.items[bet_id] = cur.model_copy(update={**changes, "object_key": object_key})
            return True

    def mark_rejected(self, bet_id: str, object_key: str, reason: str, etag: str | None, at: datetime) -> bool:
        return self._transition(
            bet_id, object_key, status=SlipStatus.rejected, reason=reason, etag=etag, updated_at=at.isoformat()
        )

    def mark_embedded(
        self, bet_id: str, object_key: str, vector: list[float], model_version: str, etag: str | None, at: datetime
    ) -> bool:
        with self.lock:
            ok = self._transition(
                bet_id,
                object_key,
                status=SlipStatus.embedded,
                reason=None,
                etag=etag,
                model_version=model_version,
                updated_at=at.isoformat(),
            )
            if ok:
                self.embeddings[bet_id] = [round(x, 6) for x in vector]
            return ok

    def clustering_message(self, bet_id: str) -> ClusteringMessage | None:
        cur = self.items.get(bet_id)
        if cur is None or cur.status != SlipStatus.embedded:
            return None
        return ClusteringMessage(
            bet_id=bet_id,
            object_key=cur.object_key,
            embedding=self.embeddings[bet_id],
            model_version=cur.model_version or "",
        )


class MemoryWriters:
    def __init__(self, slips: MemorySlips, subjects: MemorySubjects) -> None:
        self.slip_store, self.subjects = slips, subjects
        self.states: dict[str, WriterState] = {}
        self.deltas: list[tuple[datetime, WriterDelta]] = []
        self.cands: dict[tuple[str, str], Candidate] = {}
        self.tags: set[tuple[str, str]] = set()
        self.link_source: dict[tuple[SubjectRef, SubjectRef], str] = {}
        self.via: dict[tuple[str, str], str] = {}  # (customer, bet id) -> writer it was copied from
        self.slip_bets: dict[str, Bet] = {}  # bet id -> the bet its slip carries
        self.slip_link: dict[str, Any] = {}  # bet id -> the linking decision
        self.jobs: dict[str, WriterJob] = {}
        self.audits = subjects.audits  # one audit trail per subject, as in DynamoDB
        self.retired: dict[str, str] = {}

    def writer(self, writer_id: str) -> WriterState | None:
        return self.states.get(writer_id)

    def deltas_since(self, at: datetime) -> list[WriterDelta]:
        return [d for t, d in self.deltas if t >= at]

    def _put_state(self, w: WriterState, at: datetime) -> None:
        self.states[w.writer_id] = w
        self.deltas.append((at, w.link.delta()))

    def candidates(self, writer_id: str) -> list[Candidate]:
        return [c for (a, _), c in sorted(self.cands.items()) if a == writer_id]

    def decide_candidate(self, writer_id: str, other: str, status: str, by: str, at: datetime) -> bool:
        with self.subjects.lock:
            pair = [(writer_id, other), (other, writer_id)]
            if any(p not in self.cands or self.cands[p].status != "pending" for p in pair):
                return False
            for p in pair:
                self.cands[p] = replace(self.cands[p], status=status, decided_by=by)
            return True

    def rejected(self, a: str, b: str) -> bool:
        c = self.cands.get((a, b))
        return c is not None and c.status == "rejected"

    def keep_apart(self, a: str, b: str, by: str, reason: str, at: datetime) -> None:
        for x, y in ((a, b), (b, a)):
            self.cands[(x, y)] = Candidate(x, y, "", 0.0, reason, "rejected", at.isoformat(), by)

    def _link(self, a: SubjectRef, b: SubjectRef, source: str) -> None:
        for x, y in ((a, b), (b, a)):
            self.subjects.link_map[x].add(y)
            self.link_source.setdefault((x, y), source)

    def assign(self, assignment: SlipAssignment, at: datetime) -> None:
        a = assignment
        msg, w = a.message, a.writer
        with self.slip_store.lock, self.subjects.lock:
            slip = self.slip_store.items.get(msg.bet_id)
            current = self.states.get(w.writer_id)
            if (
                slip is None
                or slip.status != SlipStatus.embedded
                or slip.object_key != msg.object_key
                or slip.writer_id is not None
                or (current is None) != (a.expected_version == 0)
                or (current is not None and current.version != a.expected_version)
            ):
                raise StaleWrite(msg.bet_id)
            self.slip_store.items[msg.bet_id] = slip.model_copy(
                update={
                    "status": SlipStatus.clustered,
                    "writer_id": w.writer_id,
                    "similarity": round(a.similarity, 6),
                    "updated_at": at.isoformat(),
                    "link": None
                    if a.decision is None
                    else {
                        "action": a.decision.action,
                        "score": a.decision.score,
                        "reason": a.decision.reason,
                        "candidate_of": a.decision.writer_id if a.decision.action == "candidate" else None,
                    },
                }
            )
            self._put_state(w, at)
            self.slip_link[msg.bet_id] = a.decision
            d = a.decision
            if d is not None and d.action == "candidate" and d.writer_id:
                for x, y in ((w.writer_id, d.writer_id), (d.writer_id, w.writer_id)):
                    self.cands[(x, y)] = Candidate(x, y, msg.bet_id, d.score, d.reason, "pending", at.isoformat())
            self.slip_bets[msg.bet_id] = a.bet
            writer = SubjectRef.writer(w.writer_id)
            self.subjects.slip_map[writer].add(msg.bet_id)
            self.subjects.count(writer, a.bet, at, has_slip=True)
            if a.bet.customer_id:
                customer = SubjectRef.customer(a.bet.customer_id)
                self.subjects.slip_map[customer].add(msg.bet_id)
                self._link(writer, customer, "slip")
            for tagged in w.tagged:
                if tagged != a.bet.customer_id:
                    self.via[(tagged, a.bet.bet_id)] = w.writer_id
                    self.subjects.count(SubjectRef.customer(tagged), a.bet, at, has_slip=True)

    # --- staff decisions ----------------------------------------------------------------------

    def tag(self, writer_id: str, customer_id: str, by: str, at: datetime) -> bool:
        with self.subjects.lock:
            state = self.states.get(writer_id)
            if state is None or (writer_id, customer_id) in self.tags:
                return False
            self.tags.add((writer_id, customer_id))
            self.states[writer_id] = replace(state, tagged=tuple(sorted({*state.tagged, customer_id})))
            self._link(SubjectRef.writer(writer_id), SubjectRef.customer(customer_id), "staff")
            return True

    def untag(self, writer_id: str, customer_id: str) -> bool:
        with self.subjects.lock:
            if (writer_id, customer_id) not in self.tags:
                return False
            self.tags.discard((writer_id, customer_id))
            state = self.states[writer_id]
            self.states[writer_id] = replace(state, tagged=tuple(t for t in state.tagged if t != customer_id))
            w, c = SubjectRef.writer(writer_id), SubjectRef.customer(customer_id)
            for x, y in ((w, c), (c, w)):
                if self.link_source.get((x, y)) == "staff":
                    self.subjects.link_map[x].discard(y)
                    del self.link_source[(x, y)]
            return True

    def copy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        with self.subjects.lock:
            customer = SubjectRef.customer(customer_id)
            if bet.bet_id in self.subjects.bets[customer]:
                return False
            self.via[(customer_id, bet.bet_id)] = writer_id
            self._add(customer, bet, at)
            return True

    def _add(self, ref: SubjectRef, bet: WindowBet, at: datetime, sign: int = 1) -> None:
        old = self.subjects.profiles.get(ref)
        if sign > 0:
            self.subjects.bets[ref][bet.bet_id] = bet
        else:
            self.subjects.bets[ref].pop(bet.bet_id, None)
        self.subjects.profiles[ref] = Profile(
            subject=ref,
            bets_total=(old.bets_total if old else 0) + sign,
            stake_total_minor=(old.stake_total_minor if old else 0) + sign * bet.stake_minor,
            first_bet_at=min(old.first_bet_at, bet.placed_at.isoformat())
            if old and old.first_bet_at
            else bet.placed_at.isoformat(),
            knockbacks_total=old.knockbacks_total if old else 0,
        )
        self.subjects.active[_bucket(at)].add((at, ref))
        if sign > 0:
            self.subjects.seen[bet.placed_at.astimezone(UTC).date().isoformat()].add(ref)

    def uncopy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        with self.subjects.lock:
            if self.via.get((customer_id, bet.bet_id)) != writer_id:
                return False
            del self.via[(customer_id, bet.bet_id)]
            self._add(SubjectRef.customer(customer_id), bet, at, -1)
            return True

    def move_slip(self, bet_id: str, source: str, target: str, at: datetime) -> bool:
        with self.slip_store.lock, self.subjects.lock:
            src, dst = SubjectRef.writer(source), SubjectRef.writer(target)
            slip = self.slip_store.items.get(bet_id)
            if slip is None or slip.writer_id != source or bet_id not in self.subjects.slip_map[src]:
                return False
            self.slip_store.items[bet_id] = slip.model_copy(update={"writer_id": target, "pinned": True})
            self.subjects.slip_map[src].discard(bet_id)
            self.subjects.slip_map[dst].add(bet_id)
            if (window := self.subjects.bets[src].get(bet_id)) is not None:
                self._add(src, window, at, -1)
                self._add(dst, window, at)
            bet = self.slip_bets.get(bet_id)
            if bet is not None and bet.customer_id:
                self._link(dst, SubjectRef.customer(bet.customer_id), "slip")
            return True

    def set_writer(self, state: WriterState, at: datetime) -> None:
        self._put_state(state, at)

    def retire(self, writer_id: str, into: str, at: datetime) -> None:
        current = self.states.pop(writer_id, None)
        if current is not None:
            link = current.link
            self.deltas.append((at, WriterDelta(writer_id, link.mean, link.anchor, 0, link.version + 1)))
        self.retired[writer_id] = into

    def embedding(self, bet_id: str) -> list[float] | None:
        return self.slip_store.embeddings.get(bet_id)

    def save_job(self, job: WriterJob, expected_moved: int | None) -> bool:
        with self.subjects.lock:
            cur = self.jobs.get(job.job_id)
            if (cur is None) != (expected_moved is None) or (cur is not None and cur.moved != expected_moved):
                return False
            self.jobs[job.job_id] = job.model_copy(deep=True)
            return True

    def job(self, job_id: str) -> WriterJob | None:
        j = self.jobs.get(job_id)
        return j.model_copy(deep=True) if j else None

    def record_audit(self, subject: SubjectRef, event: AuditEvent) -> None:
        self.audits[subject].append(event)

    def audit(self, subject: SubjectRef) -> list[AuditEvent]:
        return list(self.audits.get(subject, []))


class MemoryAlerts:
    def __init__(self, calls: Calls | None = None) -> None:
        self.lock = threading.RLock()
        self.calls = calls or Calls()
        self.items: dict[str, Alert] = {}
        self.last_alert: dict[tuple[str, SubjectRef], datetime] = {}
        self.snoozes: dict[tuple[str, SubjectRef], datetime] = {}
        self.outbox: list[str] = []

    def create(self, alert: Alert, cooldown: timedelta) -> bool:
        self.calls.hit("alerts.create")
        with self.lock:
            key = (alert.rule_id, alert.subject)
            if in_cooldown(self.last_alert.get(key), alert.raised_at, cooldown) or alert.alert_id in self.items:
                return False
            snoozed = self.snoozes.get(key)
            if snoozed is not None and snoozed > alert.raised_at:
                return False
            self.last_alert[key] = alert.raised_at
            self.items[alert.alert_id] = alert.model_copy(deep=True)
            if not alert.shadow:
                self.outbox.append(alert.alert_id)
            return True

    def get(self, alert_id: str) -> Alert | None:
        a = self.items.get(alert_id)
        return a.model_copy(deep=True) if a else None

    def recent(self, since: datetime, until: datetime, limit: int) -> list[Alert]:
        return self.search(AlertQuery(since=since, until=until), limit, None)[0]

    def count(self, status: AlertStatus, limit: int) -> int:
        return min(limit, sum(1 for a in self.items.values() if a.status == status and not a.shadow))

    def search(self, query: AlertQuery, limit: int, cursor: str | None) -> tuple[list[Alert], str | None]:
        q = query
        until = q.until or datetime.now(UTC)
        since = q.since or until - timedelta(days=31)

        def keep(a: Alert) -> bool:
            return (
                a.shadow == q.shadow
                and since.date() <= a.raised_at.date() <= until.date()
                and (q.status is None or a.status == q.status)
                and (q.severity is None or a.severity == q.severity)
                and (q.rule_id is None or a.rule_id == q.rule_id)
                and (q.subject is None or a.subject == q.subject)
                and (q.assignee is None or a.assignee == q.assignee)
            )

        found = sorted(
            (a for a in self.items.values() if keep(a)), key=lambda a: (a.raised_at, a.alert_id), reverse=True
        )
        start = int(decode_cursor(cursor).get("offset", 0)) if cursor else 0
        page = [a.model_copy(deep=True) for a in found[start : start + limit]]
        more = start + limit < len(found)
        return page, (encode_cursor({"offset": start + limit}) if more else None)

    def update(self, alert: Alert, expected: AlertStatus) -> bool:
        with self.lock:
            cur = self.items.get(alert.alert_id)
            if cur is None or cur.status != expected:
                return False
            self.items[alert.alert_id] = alert.model_copy(deep=True)
            return True

    def snooze(self, rule_id: str, subject: SubjectRef, until: datetime, by: str) -> None:
        self.snoozes[(rule_id, subject)] = until

    def snoozed_until(self, rule_id: str, subject: SubjectRef) -> datetime | None:
        return self.snoozes.get((rule_id, subject))

    def pending(self, limit: int) -> list[Alert]:
        return [self.items[i].model_copy(deep=True) for i in self.outbox[:limit]]

    def mark_published(self, alert_id: str, at: datetime, message_id: str) -> None:
        with self.lock:
            a = self.items[alert_id]
            a.published_at = at
            a.events.append(AlertEvent(at=at, actor="system", action="published", note=f"SNS message {message_id}"))
            if alert_id in self.outbox:
                self.outbox.remove(alert_id)


class MemoryRules:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.current: dict[str, Rule] = {}
        self.all_versions: dict[str, list[Rule]] = defaultdict(list)
        self.audits: dict[str, list[AuditEvent]] = defaultdict(list)
        self.reads = 0

    def catalogue(self) -> list[Rule]:
        self.reads += 1
        return [r.model_copy(deep=True) for r in self.current.values()]

    def get(self, rule_id: str) -> Rule | None:
        r = self.current.get(rule_id)
        return r.model_copy(deep=True) if r else None

    def versions(self, rule_id: str) -> list[Rule]:
        return list(self.all_versions.get(rule_id, []))

    def save(self, rule: Rule, expected_version: int | None, audit: AuditEvent) -> bool:
        with self.lock:
            cur = self.current.get(rule.rule_id)
            if (cur is None) != (expected_version is None) or (cur is not None and cur.version != expected_version):
                return False
            self.current[rule.rule_id] = rule.model_copy(deep=True)
            if cur is None or cur.version != rule.version:
                self.all_versions[rule.rule_id].append(rule.model_copy(deep=True))
            self.audits[rule.rule_id].append(audit)
            return True

    def remove(self, rule_id: str, expected_version: int, audit: AuditEvent) -> bool:
        with self.lock:
            cur = self.current.get(rule_id)
            if cur is None or cur.version != expected_version:
                return False
            del self.current[rule_id]
            self.audits[rule_id].append(audit)
            return True

    def audit(self, rule_id: str) -> list[AuditEvent]:
        return list(self.audits.get(rule_id, []))


class MemoryNotifier:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def publish(self, alert: Alert) -> str:
        self.sent.append(alert)
        return f"msg-{len(self.sent)}"


class MemoryFiles:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def presign_post(
        self, bucket: str, key: str, content_type: str, min_bytes: int, max_bytes: int, expires_s: int
    ) -> dict[str, Any]:
        return {"url": f"memory://{bucket}", "fields": {"key": key, "Content-Type": content_type}}

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        return self.objects[(bucket, key)][: max_bytes + 1]

    def read_optional(self, bucket: str, key: str) -> bytes | None:
        return self.objects.get((bucket, key))

    def write(self, bucket: str, key: str, data: bytes) -> None:
        self.objects[(bucket, key)] = bytes(data)

    def presign_get(self, bucket: str, key: str, expires_s: int) -> str:
        return f"memory://{bucket}/{key}?expires={expires_s}"

    def stream(self, bucket: str, key: str, start: int = 0, piece: int = 64 * 1024) -> Iterator[bytes]:
        data = self.objects[(bucket, key)]
        for i in range(start, len(data), piece):
            yield data[i : i + piece]

    def write_stream(self, bucket: str, key: str, chunks: Iterable[bytes]) -> None:
        self.objects[(bucket, key)] = b"".join(chunks)

    def read_upto(self, bucket: str, key: str, max_bytes: int) -> bytes | None:
        data = self.objects.get((bucket, key))
        return None if data is None else data[: max_bytes + 1]

    def copy(self, bucket: str, key: str, to_key: str) -> bool:
        data = self.objects.get((bucket, key))
        if data is None:
            return False
        self.objects[(bucket, to_key)] = data
        return True

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)


class MemoryImports:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, ImportJob] = {}

    def create(self, job: ImportJob) -> None:
        with self.lock:
            self.jobs[job.import_id] = job.model_copy(deep=True)

    def get(self, import_id: str) -> ImportJob | None:
        job = self.jobs.get(import_id)
        return job.model_copy(deep=True) if job else None

    def save(self, job: ImportJob, expected_chunk: int) -> bool:
        with self.lock:
            cur = self.jobs.get(job.import_id)
            if cur is None or cur.next_chunk != expected_chunk:
                return False
            self.jobs[job.import_id] = job.model_copy(deep=True)
            return True


class MemoryIntake:
    """Knockbacks and SMS requests, with what the DynamoDB adapter writes in the same transaction
    (the customer's knockback count and activity marker, the feed rows)."""

    def __init__(self, subjects: MemorySubjects, feed: MemoryFeed) -> None:
        self.subjects, self.feed = subjects, feed
        self.kbs: dict[str, StoredKnockback] = {}
        self.sms_map: dict[str, StoredSms] = {}

    def knockback(self, knockback_id: str) -> StoredKnockback | None:
        return self.kbs.get(knockback_id)

    def record_knockback(self, record: KnockbackRecord, fingerprint: str) -> bool:
        kb, at = record.knockback, record.recorded_at
        ref = SubjectRef.customer(record.customer_id)
        with self.subjects.lock:
            if kb.knockback_id in self.kbs:
                return False
            self.kbs[kb.knockback_id] = StoredKnockback(record, fingerprint)
            old = self.subjects.profiles.get(ref) or Profile(subject=ref, bets_total=0, stake_total_minor=0)
            self.subjects.profiles[ref] = replace(old, knockbacks_total=old.knockbacks_total + 1)
            self.subjects.active[_bucket(at)].add((at, ref))
            self.feed.add_row(at, f"kb:{kb.knockback_id}", knockback_row(record))
        return True

    def knockbacks(self, customer_id: str, start: datetime, end: datetime) -> list[KnockbackRecord]:
        self.subjects.calls.hit("intake.knockbacks")
        found = [
            s.record for s in self.kbs.values()
            if s.record.customer_id == customer_id and start <= s.record.knockback.attempted_at <= end
        ]  # fmt: skip
        return sorted(found, key=lambda r: (r.knockback.attempted_at, r.knockback_id))

    def sms(self, wager_number: str) -> StoredSms | None:
        return self.sms_map.get(wager_number)

    def record_sms(self, request: SmsRequest, fingerprint: str) -> bool:
        with self.subjects.lock:
            if request.wager_number in self.sms_map:
                return False
            self.sms_map[request.wager_number] = StoredSms(request, fingerprint)
            self.feed.add_row(request.recorded_at, f"sms:{request.wager_number}", sms_row(request))
        return True

    def update_sms(self, request: SmsRequest, expected: SmsStatus) -> bool:
        with self.subjects.lock:
            stored = self.sms_map.get(request.wager_number)
            if stored is None or stored.request.status is not expected:
                return False
            self.sms_map[request.wager_number] = StoredSms(request, stored.fingerprint)
            row = self.feed.rows.get(self.feed._pos(request.recorded_at, f"sms:{request.wager_number}"))
            if row is not None:
                row.status = request.status.value  # the feed row says it is closed now
        return True

    def open_sms(self, limit: int, cursor: str | None) -> tuple[list[SmsRequest], str | None]:
        found = sorted(
            (s.request for s in self.sms_map.values() if s.request.status is SmsStatus.open),
            key=lambda r: (r.received_at, r.wager_number),
        )
        start = int(decode_cursor(cursor)["i"]) if cursor else 0
        page = found[start : start + limit]
        return page, (encode_cursor({"i": start + limit}) if start + limit < len(found) else None)


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = defaultdict(list)

    def send(self, queue: str, body: str) -> None:
        self.messages[queue].append(body)


class MemoryPrincipals:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKeyRecord] = {}
        self.names: dict[str, str] = {}  # name -> current digest
        self.users: dict[str, UserRecord] = {}
        self.failures: dict[tuple[str, str], int] = {}
        self.trail: list[AccessAudit] = []
        self.lock = threading.Lock()

    def add_api_key(self, record: ApiKeyRecord) -> bool:
        with self.lock:
            if record.name in self.names:
                return False
            self.keys[record.digest] = record
            self.names[record.name] = record.digest
            return True

    def api_key(self, digest: str) -> ApiKeyRecord | None:
        return self.keys.get(digest)

    def api_keys(self) -> list[ApiKeyRecord]:
        return [self.keys[d] for _, d in sorted(self.names.items())]

    def named_key(self, name: str) -> ApiKeyRecord | None:
        digest = self.names.get(name)
        return self.keys.get(digest) if digest else None

    def revoke_api_key(self, name: str, at: str) -> ApiKeyRecord | None:
        with self.lock:
            current = self.named_key(name)
            if current is None or current.revoked_at:
                return None
            self.keys[current.digest] = revoked = replace(current, revoked_at=at)
            return revoked

    def rotate_api_key(self, old: ApiKeyRecord, new: ApiKeyRecord, old_expires_at: str) -> bool:
        with self.lock:
            if self.names.get(old.name) != old.digest:
                return False
            self.keys[old.digest] = replace(self.keys[old.digest], expires_at=old_expires_at)
            self.keys[new.digest] = new
            self.names[new.name] = new.digest
            return True

    def add_user(self, record: UserRecord) -> bool:
        with self.lock:
            if record.username in self.users:
                return False
            self.users[record.username] = record
            return True

    def user(self, username: str) -> UserRecord | None:
        return self.users.get(username)

    def set_user_disabled(self, username: str, disabled: bool) -> bool:
        with self.lock:
            if username not in self.users:
                return False
            self.users[username] = replace(self.users[username], disabled=disabled)
            return True

    def login_failures(self, who: str, window: str) -> int:
        return self.failures.get((who, window), 0)

    def count_login_failure(self, who: str, window: str, expires_at: int) -> int:
        with self.lock:
            self.failures[(who, window)] = n = self.failures.get((who, window), 0) + 1
            return n

    def clear_login_failures(self, who: str, window: str) -> None:
        self.failures.pop((who, window), None)

    def audit(self, event: AccessAudit) -> None:
        self.trail.append(event)

    def audit_trail(self, limit: int) -> list[AccessAudit]:
        return list(reversed(self.trail))[:limit]


class FixedScorer:
    """A RiskScorer that scores by a function of the stake (no model): services' tests."""

    def __init__(self, level_at: dict[str, int] | None = None) -> None:
        self.level_at = level_at or {"medium": 20_000, "high": 50_000, "critical": 200_000}
        self.seen: list[tuple[BetIn, SubjectHistory]] = []

    def assess(self, bet: BetIn, history: SubjectHistory) -> RiskAssessment:
        self.seen.append((bet, history))
        level = "low"
        for name, minimum in self.level_at.items():
            if bet.stake_minor >= minimum:
                level = name
        score = {"low": 5, "medium": 45, "high": 75, "critical": 95}[level]
        return RiskAssessment(
            score=score,
            level=level,  # type: ignore[arg-type]
            signals=[],
            recommendation="accept",
            model_version="fixed",
        )

    def ready(self) -> bool:
        return True


class MemoryHealth:
    def __init__(self, down: dict[str, str] | None = None) -> None:
        self.down = down or {}

    def unreachable(self) -> dict[str, str]:
        return dict(self.down)
