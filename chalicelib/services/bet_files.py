"""Raw bet files → bets, knockbacks and SMS requests; a file that cannot be recorded → quarantine.

One S3 object at a time (the consumer in app.py hands each object of an SQS batch here):

- over the size limit, not text, or not one of the formats (domain.betfiles names the line and the
  problem), or a record the bet API would refuse, or an id already recorded with other details:
  the file is moved to the quarantine prefix with a JSON note next to it, and nothing is recorded;
- a website bet goes through the bet recorder (scored, aggregated, rules) with the wager number as
  its bet id; a knockback is stored and counted for its customer; an SMS wager is stored with its
  text and, when the text is a bet in a common form, recorded as one, else left open for staff.

Every step is idempotent (at-least-once delivery): the same file again, re-delivered or re-uploaded,
finds its record stored with the same fingerprint and changes nothing. Anything else that fails (an
AWS error) is raised, so the message is retried and, in the end, lands in the DLQ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ValidationError

from chalicelib.core import observability as obs
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability import logger
from chalicelib.domain.betfiles import BetFileError, Knockback, SmsWager, WebsiteBet, detect_kind, parse_bet_file
from chalicelib.domain.betfiles.text import text_lines
from chalicelib.domain.bets import BetIn
from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.intake import FileRef, KnockbackRecord, QuarantineNote, SmsRequest, SmsStatus, quarantine_key
from chalicelib.ports import IntakeStore, ObjectFiles
from chalicelib.services.recording import BetRecorder, fingerprint

SOURCE = "bet-file"


class Outcome(StrEnum):
    bet = "bet"  # a new bet
    knockback = "knockback"
    sms = "sms"  # a new SMS request (recorded as a bet or open for staff)
    duplicate = "duplicate"  # the same record was already stored: nothing changed
    quarantined = "quarantined"
    missing = "missing"  # no such object any more (already moved to quarantine, or deleted)
    ignored = "ignored"  # not under the incoming prefix


@dataclass(frozen=True)
class BetFileSettings:
    max_bytes: int
    incoming: str  # "incoming/"
    quarantine: str  # "quarantine/"
    currency: str = "GBP"


class Refused(Exception):
    """A parsed file that still cannot be recorded (the bet API's checks, an id taken): quarantined."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.error = BetFileError(line, message)


def digest(record: BaseModel) -> str:
    """The record's fingerprint: the same content, whatever its line endings or spacing, is the same file."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def bet_in(fields: dict[str, object]) -> BetIn:
    try:
        return BetIn.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "bet"
        raise Refused(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None


class BetFileIngest:
    def __init__(
        self,
        files: ObjectFiles,
        intake: IntakeStore,
        recorder: BetRecorder,
        cfg: BetFileSettings,
        clock: Clock = utcnow,
    ):
        self.files, self.intake, self.recorder = files, intake, recorder
        self.cfg = cfg
        self.clock = clock

    def process(self, ref: FileRef) -> Outcome:
        outcome = self._process(ref)
        obs.count_by(obs.BET_FILES, outcome=outcome.value)
        logger.info("bet file", extra={"key": ref.key, "outcome": outcome.value})
        return outcome

    def _process(self, ref: FileRef) -> Outcome:
        if not ref.key.startswith(self.cfg.incoming):
            return Outcome.ignored
        limit = self.cfg.max_bytes
        if ref.size > limit:  # refused unread: the copy to quarantine is done by S3
            error = BetFileError(None, f"file is {ref.size:,} bytes, over the {limit:,}-byte limit")
            return self._quarantine(ref, error, None, ref.size)
        data = self.files.read_upto(ref.bucket, ref.key, limit)
        if data is None:
            return Outcome.missing
        try:
            record = parse_bet_file(data, max_bytes=limit)
            return self._record(record, ref)
        except BetFileError as exc:
            return self._quarantine(ref, exc, _kind(data), len(data))
        except Refused as exc:
            return self._quarantine(ref, exc.error, _kind(data), len(data))

    def _record(self, record: WebsiteBet | Knockback | SmsWager, ref: FileRef) -> Outcome:
        if isinstance(record, WebsiteBet):
            return Outcome.bet if self._bet(bet_in(record.bet_fields())) else Outcome.duplicate
        if isinstance(record, Knockback):
            return self._knockback(record, ref)
        return self._sms(record, ref)

    # --- bets --------------------------------------------------------------------------------------

    def _bet(self, body: BetIn) -> bool:
        """Record through the same use case as POST /bets; True if new, False for the same bet again."""
        try:
            _, created = self.recorder.record(body, SOURCE)
        except Invalid as exc:
            raise Refused(exc.message) from None
        except Conflict:
            if self._taken(body):
                raise Refused(f"wager number {body.bet_id} is already recorded with different details") from None
            raise  # a lost race the recorder could not settle: retried
        return created

    def _taken(self, body: BetIn) -> bool:
        """The bet id is stored with other details (another file, or a till, used the wager number)."""
        assert body.bet_id is not None
        existing = self.recorder.bets.get(body.bet_id)
        return existing is not None and existing.fingerprint != fingerprint(body)

    # --- knockbacks --------------------------------------------------------------------------------

    def _knockback(self, kb: Knockback, ref: FileRef) -> Outcome:
        fp = digest(kb)
        if self._stored_knockback(kb, fp):
            return Outcome.duplicate
        record = KnockbackRecord(knockback=kb, source=ref.key, recorded_at=self.clock())
        if self.intake.record_knockback(record, fp):
            return Outcome.knockback
        if self._stored_knockback(kb, fp):
            return Outcome.duplicate  # a concurrent delivery stored it first
        raise RuntimeError(f"knockback {kb.knockback_id} neither stored nor found; retry")

    def _stored_knockback(self, kb: Knockback, fp: str) -> bool:
        existing = self.intake.knockback(kb.knockback_id)
        if existing is None:
            return False
        if existing.fingerprint != fp:
            raise Refused(f"knockback {kb.knockback_id} is already recorded with different details")
        return True

    # --- SMS wagers --------------------------------------------------------------------------------

    def _sms(self, sms: SmsWager, ref: FileRef) -> Outcome:
        fp = digest(sms)
        existing = self.intake.sms(sms.wager_number)
        if existing is not None:
            return self._sms_again(existing.request, existing.fingerprint, fp)
        received = sms.received_at or ref.event_time or self.clock()
        body, problem = self._sms_bet(sms, received)
        request = SmsRequest(
            wager_number=sms.wager_number,
            customer_id=sms.customer_ref,
            mobile_number=sms.mobile_number,
            text=sms.text,
            received_at=received,
            status=SmsStatus.recorded if body else SmsStatus.open,
            parsed=sms.parsed,
            bet_id=sms.wager_number if body else None,
            problem=problem,
            source=ref.key,
            recorded_at=self.clock(),
        )
        if not self.intake.record_sms(request, fp):
            again = self.intake.sms(sms.wager_number)
            if again is None:
                raise RuntimeError(f"SMS wager {sms.wager_number} neither stored nor found; retry")
            return self._sms_again(again.request, again.fingerprint, fp)
        if body is not None:
            self._sms_record_bet(request, body)
        return Outcome.sms

    def _sms_again(self, stored: SmsRequest, stored_fp: str, fp: str) -> Outcome:
        if stored_fp != fp:
            raise Refused(f"SMS wager {stored.wager_number} is already recorded with different details")
        if stored.status is SmsStatus.recorded:
            # Finishes a delivery that stored the request but failed before its bet was recorded.
            wager = SmsWager(
                wager_number=stored.wager_number,
                customer_ref=stored.customer_id,
                mobile_number=stored.mobile_number,
                text=stored.text,
                received_at=stored.received_at,
                parsed=stored.parsed,
            )
            body, _ = self._sms_bet(wager, stored.received_at)
            if body is not None:
                self._sms_record_bet(stored, body)
        return Outcome.duplicate

    def _sms_bet(self, sms: SmsWager, received: datetime) -> tuple[BetIn | None, str | None]:
        """The text as a bet, or why staff must read it."""
        fields = sms.bet_fields(received_at=received)
        if fields is None:
            return None, "the text is not a bet in a common form ('£5 win Sea Bird 14:30 Ascot')"
        try:
            body = bet_in(fields)
        except Refused as exc:
            return None, f"read as a bet, but {exc}"
        if self._taken(body):
            return None, f"wager number {body.bet_id} is already a bet with other details"
        return body, None

    def _sms_record_bet(self, request: SmsRequest, body: BetIn) -> None:
        try:
            self._bet(body)
        except Refused as exc:  # the request stays for staff, with the reason
            opened = request.model_copy(update={"status": SmsStatus.open, "bet_id": None, "problem": str(exc)})
            self.intake.update_sms(opened, SmsStatus.recorded)

    # --- quarantine --------------------------------------------------------------------------------

    def _quarantine(self, ref: FileRef, error: BetFileError, kind: str | None, size: int) -> Outcome:
        """Note, copy, then delete: a redelivery after any step finds the object gone or moves it again."""
        to = quarantine_key(ref.key, self.cfg.incoming, self.cfg.quarantine)
        doc = error.as_dict()
        note = QuarantineNote(
            file=ref.key, quarantined_as=to, line=doc["line"], error=doc["error"], message=doc["message"],
            kind=kind, size=size, at=self.clock(),
        )  # fmt: skip
        self.files.write(ref.bucket, to + ".error.json", note.model_dump_json(indent=2).encode())
        if not self.files.copy(ref.bucket, ref.key, to):
            return Outcome.missing
        self.files.delete(ref.bucket, ref.key)
        logger.warning("bet file quarantined", extra={"key": ref.key, "line": error.line, "error": error.message})
        return Outcome.quarantined


def _kind(data: bytes) -> str | None:
    try:
        return detect_kind(text_lines(data))
    except BetFileError:
        return None
