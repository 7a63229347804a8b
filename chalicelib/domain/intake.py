"""Raw bet files as they arrive and what is kept of them besides bets: knockbacks and SMS requests.

A file comes as an S3 ObjectCreated notification (`FileRef`); its record (domain.betfiles) becomes a
bet (through the bet recorder), a `KnockbackRecord` or an `SmsRequest`. A file that cannot be
recorded is moved to the quarantine prefix with a `QuarantineNote` next to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.betfiles import Knockback
from chalicelib.domain.betfiles.text import parse_race_time, sport_of
from chalicelib.domain.sms_wager import ParsedSmsBet

# --- the S3 notification (only the fields read: moto and LocalStack leave out some AWS sends) ----


class S3TestEvent(BaseModel):
    """What S3 sends once when a notification is configured."""

    Event: Literal["s3:TestEvent"]


class _S3Object(BaseModel):
    key: str = Field(min_length=1)
    size: int = Field(default=0, ge=0)
    eTag: str | None = None


class _S3Bucket(BaseModel):
    name: str = Field(min_length=1)


class _S3Part(BaseModel):
    bucket: _S3Bucket
    object: _S3Object


class S3EventRecord(BaseModel):
    eventName: str
    eventTime: datetime | None = None
    s3: _S3Part

    @field_validator("eventTime")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        # AWS sends '...Z'; an emulator that leaves the zone out means UTC too.
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


class S3Notification(BaseModel):
    Records: list[S3EventRecord]


class FileRef(BaseModel):
    """One object to ingest: where it is, its size as S3 reported it, and when it was created."""

    bucket: str
    key: str
    size: int = 0
    etag: str | None = None
    event_time: AwareDatetime | None = None


def file_refs(body: S3Notification | S3TestEvent) -> list[FileRef]:
    """The created objects an S3 notification names (keys are URL-encoded in events)."""
    if isinstance(body, S3TestEvent):
        return []
    return [
        FileRef(
            bucket=r.s3.bucket.name,
            key=unquote_plus(r.s3.object.key),
            size=r.s3.object.size,
            etag=r.s3.object.eTag,
            event_time=r.eventTime,
        )
        for r in body.Records
        if r.eventName.startswith("ObjectCreated")
    ]


# --- what is kept ----------------------------------------------------------------------------------


class KnockbackRecord(BaseModel):
    """A knockback as stored: the parsed file, where it came from and when it was recorded."""

    knockback: Knockback
    source: str = Field(description="The object key the file came in as.")
    recorded_at: AwareDatetime

    @property
    def knockback_id(self) -> str:
        return self.knockback.knockback_id

    @property
    def customer_id(self) -> str:
        return self.knockback.customer_ref

    @property
    def sport(self) -> str:
        sports = {
            sport_of(s.selection, next((t for w in s.meeting.split() if (t := parse_race_time(w))), None))
            for s in self.knockback.selections
        }
        return sports.pop() if len(sports) == 1 else "mixed"


class SmsStatus(StrEnum):
    recorded = "recorded"  # its text was a bet, recorded with the wager number as bet id
    open = "open"  # staff must read it
    closed = "closed"  # staff dealt with it


class SmsRequest(BaseModel):
    """An SMS wager as stored. The mobile number is personal data: out of repr, logs and feeds."""

    model_config = ConfigDict(frozen=True)

    wager_number: str
    customer_id: str
    mobile_number: str = Field(repr=False)
    text: str
    received_at: AwareDatetime = Field(description="The file's date/time line, else when the file arrived.")
    status: SmsStatus
    parsed: ParsedSmsBet | None = None
    bet_id: str | None = Field(None, description="The bet recorded from the text (the wager number).")
    problem: str | None = Field(None, description="Why staff must read it.")
    source: str
    recorded_at: AwareDatetime
    closed_by: str | None = None
    closed_at: AwareDatetime | None = None
    note: str | None = None

    @property
    def masked_mobile(self) -> str:
        return self.mobile_number[:-5] + "•" * 5


def knockback_row(record: KnockbackRecord) -> dict[str, Any]:
    """A knockback's feed row fields (FeedRow's, but the position)."""
    kb = record.knockback
    return {
        "record_type": "knockback",
        "record_id": kb.knockback_id,
        "placed_at": kb.attempted_at.isoformat(),
        "customer_id": kb.customer_ref,
        "channel": "online",
        "stake_minor": kb.total_stake_minor,
        "bet_type": kb.bet_type.value if kb.bet_type else None,
        "sport": record.sport,
        "selections": [f"{s.selection} ({s.event})" for s in kb.selections],
        "detail": kb.error_message,
        "status": "liability_exceeded" if kb.liability_exceeded else "refused",
        "offered_minor": kb.max_stake_minor,
    }


def sms_row(request: SmsRequest) -> dict[str, Any]:
    """An SMS request's feed row fields: its text, never the mobile number."""
    p = request.parsed
    return {
        "record_type": "sms",
        "record_id": request.wager_number,
        "placed_at": request.received_at.isoformat(),
        "customer_id": request.customer_id,
        "channel": "sms",
        "stake_minor": int(p.stake.scaleb(2)) if p else None,
        "bet_type": "single" if p else None,
        "sport": p.sport if p else None,
        "selections": [f"{p.selection} ({p.event})"] if p else [],
        "detail": request.text[:300],
        "status": request.status.value,
    }


class QuarantineNote(BaseModel):
    """The JSON written next to a quarantined file: which line, and what is wrong with it."""

    file: str = Field(description="The key the file arrived under.")
    quarantined_as: str
    line: int | None = Field(description="1-based line of the file (null: the file as a whole).")
    error: str
    message: str
    kind: str | None = Field(None, description="bet, knockback or sms, when the file got that far.")
    size: int
    at: datetime


def quarantine_key(key: str, incoming: str, quarantine: str) -> str:
    """incoming/2025/05/x.txt → quarantine/2025/05/x.txt."""
    return quarantine + (key[len(incoming) :] if key.startswith(incoming) else key)
