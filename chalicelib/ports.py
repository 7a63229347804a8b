"""Ports: what the services need from the outside world, as Protocols.

Adapters implement them (`adapters/dynamodb/*`, `adapters/sns.py`, `adapters/s3.py`, ...) and so do
the in-memory fakes (`adapters/memory.py`) the unit tests use. Each method is a use-case-sized
operation (e.g. "record this bet against these subjects, atomically"), so a fake can keep the same
guarantees as DynamoDB with a lock instead of a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain import writer_linking as wl
from chalicelib.domain.alerts import Alert, AlertStatus
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.bets import Bet, BetIn, RiskAssessment
from chalicelib.domain.feed import FeedFilter, FeedRow
from chalicelib.domain.imports import ImportJob
from chalicelib.domain.intake import KnockbackRecord, SmsRequest, SmsStatus
from chalicelib.domain.results import EventResult
from chalicelib.domain.risk_history import SubjectHistory
from chalicelib.domain.rules import Rule, WindowBet
from chalicelib.domain.settlement import Settlement
from chalicelib.domain.slips import ClusteringMessage, SlipRecord
from chalicelib.domain.subjects import Profile, SubjectRef, SubjectStatus
from chalicelib.domain.writers import WriterJob


@dataclass(frozen=True)
class StoredBet:
    bet: Bet
    fingerprint: str
    settlement: Settlement | None = None  # set once results settle the bet
    settled_version: str | None = None  # the results it was settled with (services/settlement.py)


class BetStore(Protocol):
    def get(self, bet_id: str) -> StoredBet | None: ...

    def record(
        self, bet: Bet, fingerprint: str, subjects: list[SubjectRef], activity: bool = True, maybe_earliest: bool = True
    ) -> bool:
        """Store the bet and count it for each subject, all or nothing. False if the id exists.
        `activity=False` writes no activity marker and no live-feed row (history imports: the schedule
        does not evaluate the past, and a few months of history would bury the live feed and count
        as today's bets in the daily report).
        `maybe_earliest`: the subjects had no bet before this one in the lookback, so their
        first_bet_at may have to move back to it."""
        ...


class SubjectStore(Protocol):
    def bets_between(self, subject: SubjectRef, start: datetime, end: datetime) -> list[WindowBet]: ...

    def profile(self, subject: SubjectRef) -> Profile | None: ...

    def links(self, subject: SubjectRef) -> list[SubjectRef]: ...

    def slips(self, subject: SubjectRef) -> list[str]:
        """Bet ids of the subject's slips."""
        ...

    def seen_on(self, day: datetime) -> set[SubjectRef]:
        """Subjects with a bet placed on that (UTC) day, within the history kept."""
        ...

    def recent(
        self, subject: SubjectRef, start: datetime, end: datetime | None
    ) -> tuple[list[WindowBet], SubjectStatus]:
        """The subject's bets placed between start and end (None: no end) and its status, in one
        Query (the bet path)."""
        ...

    def status(self, subject: SubjectRef) -> SubjectStatus: ...

    def statuses(self, subjects: list[SubjectRef]) -> dict[SubjectRef, SubjectStatus]:
        """Several subjects' statuses at once (a feed page's customers)."""
        ...

    def set_status(self, subject: SubjectRef, status: SubjectStatus, audit: AuditEvent) -> None: ...

    def audit(self, subject: SubjectRef) -> list[AuditEvent]: ...


class ActivityIndex(Protocol):
    def active_between(self, start: datetime, end: datetime) -> set[SubjectRef]:
        """Subjects with new activity (a bet recorded or attributed) between start and end."""
        ...

    def checkpoint(self, name: str) -> datetime | None: ...

    def set_checkpoint(self, name: str, at: datetime) -> None: ...


class RuleStore(Protocol):
    def catalogue(self) -> list[Rule]:
        """The current version of every rule (disabled ones too)."""
        ...

    def get(self, rule_id: str) -> Rule | None: ...

    def versions(self, rule_id: str) -> list[Rule]: ...

    def save(self, rule: Rule, expected_version: int | None, audit: AuditEvent) -> bool:
        """Store `rule` as the current version if the current one is `expected_version` (None: no
        rule of that id yet), with its audit event, all or nothing. False on a conflict."""
        ...

    def remove(self, rule_id: str, expected_version: int, audit: AuditEvent) -> bool:
        """Take the rule out of the catalogue (its versions stay, alerts refer to them)."""
        ...

    def audit(self, rule_id: str) -> list[AuditEvent]: ...


@dataclass(frozen=True)
class WriterState:
    """A writer as linking sees it (domain.writer_linking: mean, anchor, exemplars, n, version), and
    the customers staff tagged it to (its later bets count for them too)."""

    link: wl.WriterState
    tagged: tuple[str, ...] = ()

    @property
    def writer_id(self) -> str:
        return self.link.writer_id

    @property
    def n(self) -> int:
        return self.link.n

    @property
    def version(self) -> int:
        return self.link.version

    def n_anchor_slips_kept(self) -> bool:
        """Whether the writer has its own founding slips (the anchor a merge keeps)."""
        return self.link.n_anchor > 0


@dataclass(frozen=True)
class SlipAssignment:
    """One slip joining a writer: the writer's new state, why, and what the slip's bet counts towards."""

    message: ClusteringMessage
    bet: Bet
    writer: WriterState  # the state after this slip joined (n and version count it)
    expected_version: int  # 0 for a new writer; the conditional write on the writer otherwise
    similarity: float
    decision: wl.LinkDecision | None = None  # a candidate decision also records the candidate link


@dataclass(frozen=True)
class Candidate:
    """A borderline match staff decide: slip `bet_id` founded `writer_id`, near `other`."""

    writer_id: str
    other: str
    bet_id: str
    score: float
    reason: str
    status: str  # pending, confirmed, rejected
    at: str
    decided_by: str | None = None


class FeedStore(Protocol):
    def page(
        self, start: datetime, end: datetime, before: str | None, limit: int, f: FeedFilter
    ) -> tuple[list[FeedRow], str | None]:
        """The newest rows recorded in [start, end] older than cursor `before`, and the next cursor."""
        ...

    def newer(self, since: str, end: datetime, limit: int, f: FeedFilter) -> list[FeedRow]:
        """Rows recorded after cursor `since` and up to `end`, oldest first."""
        ...

    def mark(self, at: datetime, after: str | None = None) -> str:
        """A since-cursor for "every row recorded up to `at` has been read" (`after` when that is later)."""
        ...

    def set_writer(self, bet: Bet, writer_id: str) -> None:
        """Show the writer a slip linked the bet to on its row."""
        ...


class SlipStore(Protocol):
    def get(self, bet_id: str) -> SlipRecord | None: ...

    def reserve_upload(self, bet_id: str, object_key: str, at: datetime) -> bool:
        """Start (or restart) an upload; False when the bet's slip is already final."""
        ...

    def mark_rejected(self, bet_id: str, object_key: str, reason: str, etag: str | None, at: datetime) -> bool: ...

    def mark_embedded(
        self, bet_id: str, object_key: str, vector: list[float], model_version: str, etag: str | None, at: datetime
    ) -> bool: ...

    def clustering_message(self, bet_id: str) -> ClusteringMessage | None: ...


class WriterStore(Protocol):
    def writer(self, writer_id: str) -> WriterState | None: ...

    def deltas_since(self, at: datetime) -> list[wl.WriterDelta]:
        """Every accepted write of a writer row recorded at or after `at` (for cached indexes)."""
        ...

    def assign(self, assignment: SlipAssignment, at: datetime) -> None:
        """Atomically: the slip gets its writer (once), the writer's state moves (conditional on its
        version), its delta is logged, the bet counts for the writer and its tagged customers, the
        writer <-> customer link is made, a candidate link recorded. Raises StaleWrite."""
        ...

    def candidates(self, writer_id: str) -> list[Candidate]: ...

    def decide_candidate(self, writer_id: str, other: str, status: str, by: str, at: datetime) -> bool:
        """Record staff's decision on both sides; False if there is no such pending candidate."""
        ...

    def rejected(self, a: str, b: str) -> bool:
        """Staff said these two writers are different people (a rejected candidate, a split)."""
        ...

    def keep_apart(self, a: str, b: str, by: str, reason: str, at: datetime) -> None: ...


class WriterAdmin(Protocol):
    """What staff decisions about writers need from the stores (each call idempotent)."""

    def tag(self, writer_id: str, customer_id: str, by: str, at: datetime) -> bool:
        """Link (staff) writer and customer; False if already tagged."""
        ...

    def untag(self, writer_id: str, customer_id: str) -> bool: ...

    def copy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        """Count a writer's bet for a tagged customer too (False if it already counts there)."""
        ...

    def uncopy_bet(self, writer_id: str, bet: WindowBet, customer_id: str, at: datetime) -> bool:
        """Undo copy_bet (only bets that came through this writer)."""
        ...

    def move_slip(self, bet_id: str, source: str, target: str, at: datetime) -> bool:
        """Move one slip, with its bet, from writer `source` to `target`; False if already moved."""
        ...

    def set_writer(self, state: WriterState, at: datetime) -> None:
        """Store a writer's state (after a merge or split), with its delta."""
        ...

    def retire(self, writer_id: str, into: str, at: datetime) -> None:
        """A merged writer: no longer matched; its profile points to the writer it went into."""
        ...

    def embedding(self, bet_id: str) -> list[float] | None: ...

    def save_job(self, job: WriterJob, expected_moved: int | None) -> bool:
        """Store the job if its progress is still `expected_moved` (None: a new job)."""
        ...

    def job(self, job_id: str) -> WriterJob | None: ...

    def record_audit(self, subject: SubjectRef, event: AuditEvent) -> None: ...

    def audit(self, subject: SubjectRef) -> list[AuditEvent]: ...


class Writers(WriterStore, WriterAdmin, Protocol):
    """The writers' store serves linking and staff decisions alike."""


class StaleWrite(Exception):
    """A conditional write lost: the record changed since it was read (or was already done)."""


@dataclass(frozen=True)
class AlertQuery:
    status: AlertStatus | None = None
    severity: str | None = None
    rule_id: str | None = None
    subject: SubjectRef | None = None
    assignee: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    shadow: bool = False  # shadow hits instead of alerts


class AlertStore(Protocol):
    def create(self, alert: Alert, cooldown: timedelta) -> bool:
        """Store the alert unless its rule alerted on its subject within `cooldown` or the subject is
        snoozed for the rule. True if new. Shadow alerts are stored but never queued for sending."""
        ...

    def get(self, alert_id: str) -> Alert | None: ...

    def recent(self, since: datetime, until: datetime, limit: int) -> list[Alert]:
        """Newest first."""
        ...

    def count(self, status: AlertStatus, limit: int) -> int:
        """How many alerts (not shadow hits) have this status, counting no further than `limit`."""
        ...

    def search(self, query: AlertQuery, limit: int, cursor: str | None) -> tuple[list[Alert], str | None]:
        """Newest first, a page at a time; the cursor continues where the page ended."""
        ...

    def update(self, alert: Alert, expected: AlertStatus) -> bool:
        """Replace the alert if its stored status is still `expected` (one of two concurrent
        transitions wins). False otherwise."""
        ...

    def snooze(self, rule_id: str, subject: SubjectRef, until: datetime, by: str) -> None: ...

    def snoozed_until(self, rule_id: str, subject: SubjectRef) -> datetime | None: ...

    def pending(self, limit: int) -> list[Alert]:
        """Alerts not yet published."""
        ...

    def mark_published(self, alert_id: str, at: datetime, message_id: str) -> None: ...


class Notifier(Protocol):
    def publish(self, alert: Alert) -> str:
        """Send the alert to staff; returns the message id."""
        ...


class FileStore(Protocol):
    def presign_post(
        self, bucket: str, key: str, content_type: str, min_bytes: int, max_bytes: int, expires_s: int
    ) -> dict[str, Any]: ...

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes: ...

    def read_optional(self, bucket: str, key: str) -> bytes | None:
        """The whole object, or None if there is none."""
        ...

    def write(self, bucket: str, key: str, data: bytes) -> None: ...

    def presign_get(self, bucket: str, key: str, expires_s: int) -> str:
        """A short-lived URL to read the object (slip thumbnails for staff)."""
        ...

    def stream(self, bucket: str, key: str, start: int = 0) -> Iterator[bytes]:
        """The object from byte `start` on, a piece at a time (a ranged GET, never all in memory)."""
        ...

    def write_stream(self, bucket: str, key: str, chunks: Iterable[bytes]) -> None:
        """Write an object from pieces (a multipart upload for large ones; bounded memory)."""
        ...


class ObjectFiles(Protocol):
    """Objects a consumer reads once and may move aside (the bet files and their quarantine)."""

    def read_upto(self, bucket: str, key: str, max_bytes: int) -> bytes | None:
        """At most max_bytes + 1 bytes of the object; None if there is no such object."""
        ...

    def write(self, bucket: str, key: str, data: bytes) -> None: ...

    def copy(self, bucket: str, key: str, to_key: str) -> bool:
        """Copy within the bucket (server side, any size); False if there is no such object."""
        ...

    def delete(self, bucket: str, key: str) -> None: ...


@dataclass(frozen=True)
class StoredKnockback:
    record: KnockbackRecord
    fingerprint: str


@dataclass(frozen=True)
class StoredSms:
    request: SmsRequest
    fingerprint: str


class IntakeStore(Protocol):
    """Knockbacks and SMS requests from the operator's bet files (bets go to the BetStore)."""

    def knockback(self, knockback_id: str) -> StoredKnockback | None: ...

    def record_knockback(self, record: KnockbackRecord, fingerprint: str) -> bool:
        """Store it, count it for its customer (window item, profile total, activity marker) and add
        its feed row, all or nothing. False if the id exists."""
        ...

    def knockbacks(self, customer_id: str, start: datetime, end: datetime) -> list[KnockbackRecord]:
        """The customer's knockbacks attempted between start and end, oldest first (one Query)."""
        ...

    def sms(self, wager_number: str) -> StoredSms | None: ...

    def record_sms(self, request: SmsRequest, fingerprint: str) -> bool:
        """Store it with its feed row (and, when open, in the open list), all or nothing. False if it exists."""
        ...

    def update_sms(self, request: SmsRequest, expected: SmsStatus) -> bool:
        """Replace it if its stored status is still `expected` (the open list follows). False otherwise."""
        ...

    def open_sms(self, limit: int, cursor: str | None) -> tuple[list[SmsRequest], str | None]:
        """Open requests, oldest first, a page at a time."""
        ...


class MessageQueue(Protocol):
    def send(self, queue: str, body: str) -> None:
        """Send to the queue of this logical name."""
        ...


class RiskScorer(Protocol):
    def assess(self, bet: BetIn, history: SubjectHistory) -> RiskAssessment:
        """Score `bet` against the subject's bets before it (no I/O)."""
        ...

    def ready(self) -> bool: ...


@dataclass(frozen=True)
class ApiKeyRecord:
    digest: str
    key_id: str
    name: str  # unique: what a key's bets are owned by, kept across rotations
    role: str
    created_at: str
    scope: str = ""  # "shop:<id>", "channel:<channel>" or "" (any)
    revoked_at: str = ""
    expires_at: str = ""  # a rotated key's grace period ends then


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: str
    salt: str
    hash: str
    created_at: str
    disabled: bool = False


class PrincipalStore(Protocol):
    def add_api_key(self, record: ApiKeyRecord) -> bool:
        """False when the name is taken."""
        ...

    def api_key(self, digest: str) -> ApiKeyRecord | None: ...

    def api_keys(self) -> list[ApiKeyRecord]:
        """Every key by name (the current one per name), revoked ones included; one Query."""
        ...

    def named_key(self, name: str) -> ApiKeyRecord | None: ...

    def revoke_api_key(self, name: str, at: str) -> ApiKeyRecord | None:
        """Revoke the key of this name; None when there is none (or it is revoked already)."""
        ...

    def rotate_api_key(self, old: ApiKeyRecord, new: ApiKeyRecord, old_expires_at: str) -> bool:
        """Replace `old` by `new` under the same name; the old one works until old_expires_at.
        False when `old` is no longer the name's current key (a concurrent rotation)."""
        ...

    def add_user(self, record: UserRecord) -> bool:
        """False when the username is taken."""
        ...

    def user(self, username: str) -> UserRecord | None: ...

    def set_user_disabled(self, username: str, disabled: bool) -> bool:
        """False when there is no such user."""
        ...

    def login_failures(self, who: str, window: str) -> int:
        """Failed logins counted for `who` ("user:<name>" or "source:<ip>") in this window."""
        ...

    def count_login_failure(self, who: str, window: str, expires_at: int) -> int:
        """Count one more failed login (atomic); returns the new count."""
        ...

    def clear_login_failures(self, who: str, window: str) -> None: ...

    def audit(self, event: AccessAudit) -> None: ...

    def audit_trail(self, limit: int) -> list[AccessAudit]:
        """The newest administrative actions first."""
        ...


@dataclass(frozen=True)
class AccessAudit:
    at: str
    actor: str
    action: str  # api_key.create, api_key.revoke, api_key.rotate, user.create, user.disable, user.enable
    target: str
    detail: dict[str, Any] = field(default_factory=dict)


class SecretSource(Protocol):
    def signing_key(self) -> str:
        """The HS256 key for staff tokens ('' when none is configured)."""
        ...


class HealthProbe(Protocol):
    def unreachable(self) -> dict[str, str]:
        """Logical names of the stores that cannot be reached, with the error."""
        ...


@dataclass(frozen=True)
class StoredResult:
    result: EventResult
    version: str  # a hash of the result: a corrected result has another


@dataclass(frozen=True)
class SettlementWrite:
    """One bet's (re-)settlement: stored on the bet, counted in its subjects' windows and profiles
    (the difference to `previous`, so settling twice never counts twice), shown on its feed row."""

    bet: Bet
    settlement: Settlement
    version: str  # the results used, for idempotency
    previous: Settlement | None
    previous_version: str | None
    subjects: list[SubjectRef]
    sp_compared: int
    sp_beaten: int
    results: dict[str, StoredResult]  # event key -> the result used (its date files the bet under it)
    events: list[str]  # every event key of the bet's legs (their open-bets index entries go)
    at: datetime


class SettlementStore(Protocol):
    def save_result(self, result: EventResult, version: str, at: datetime) -> None:
        """Store (or replace, for a correction) the result of the event on its date."""
        ...

    def result_for(self, event_key: str, day: date) -> StoredResult | None:
        """The result of the first running of the event on or after `day` (the bet's), else an undated one."""
        ...

    def bets_on(self, event_key: str, result_date: str | None) -> list[str]:
        """Bet ids to (re-)settle for a result: the event's open bets and those settled with this result."""
        ...

    def apply(self, write: SettlementWrite) -> bool:
        """All or nothing; False when the bet's stored settlement is no longer `previous_version`."""
        ...


class ImportStore(Protocol):
    def create(self, job: ImportJob) -> None: ...

    def get(self, import_id: str) -> ImportJob | None: ...

    def save(self, job: ImportJob, expected_chunk: int) -> bool:
        """Store the job's progress if its stored next_chunk is still `expected_chunk` (one of two
        deliveries of a chunk counts). False otherwise."""
        ...
