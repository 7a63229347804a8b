"""Every DynamoDB key format, in one place: nothing outside the adapters formats or parses them.

Tables (declared in core/resources.py):
  bets        pk BET#<bet id> | KB#<knockback id> | SMS#<wager number>
  subjects    pk CUST#<customer id> | WRITER#<writer id>
                sk PROFILE                     running totals (ADD updates)
                sk BET#<placed_at>#<bet id>    one item per bet: exact rolling windows by Query (TTL)
                sk BET~STATUS                  staff's category and whitelist (read with the bets)
                sk LINK#<kind>#<id>            customer <-> writer links, on both sides
                sk SLIP#<bet id>               a writer's slips (on the customer too, for its profile)
                sk TAG#CUST#<id>               a staff tag of a writer to a customer
                sk AUDIT#<at>#<id>             staff actions on the subject
                sk KB#<attempted_at>#<id>      a customer's knockback (TTL)
                sk STATE (on WRITER#)          the writer for linking: mean, anchor, exemplars, n, version
                sk CAND#WRITER#<id>            a candidate link (pending, confirmed, rejected) or a
                                               staff "different people" record
              pk WDELTA#<hour>#<shard>, sk <at>#<writer>#<version>   every accepted writer write (TTL)
  slips       pk SLIP#<bet id>
  monitoring  pk NEW#<yyyy-mm-ddThh:mm, 5 min>#<shard>, sk <recorded_at>#<subject key>   who had
                                               new activity then (by the time it was recorded; TTL)
              pk RULESTATE#<rule>#<subject key>, sk STATE   a rule's cooldown for a subject
              pk SNOOZE#<rule>#<subject key>, sk STATE      a rule snoozed for a subject until
              pk SEEN#<yyyy-mm-dd>#<shard>, sk <subject key>   who bet on that day (placed; TTL)
              pk RUNSTATE#<name>, sk STATE     how far the schedule has evaluated
              pk JOB#<id>, sk STATE            a writer merge or split job and its progress
              pk FEED#<yyyy-mm-ddThh>#<shard>, sk <recorded_at>#<bet id>   the bets as recorded
              pk EVENT#<event key>#<shard>, sk BET#<bet id>  a bet still open on the event (settlement)
              pk SETTLED#<event key>#<date|->#<shard>, sk BET#<bet id>  a bet settled with that result
              pk RESULT#<event key>, sk <date|->             the event's result (by date; '-' undated)
              pk IMPORT#<id>, sk STATE                       a history import's progress
                                               (knockbacks: kb:<id>, SMS requests: sms:<wager>)
              pk SMSOPEN, sk <received_at>#<wager>   SMS requests open for staff
  rules       pk CATALOGUE, sk <rule id>       the current version of each rule
              pk RULE#<rule id>, sk V#<version> | AUDIT#<at>#<id>   every version, the audit trail
  alerts      pk ALERT#<alert id>, sk ALERT    the alert; GSIs by_day, by_status, by_subject and the
                                               sparse outbox (alerts not yet published)
  principals  pk KEY#<sha256 of the key> | USER#<username>
              pk LOGINFAIL#<user:name | source:ip>#<15-min window>   failed logins (TTL)
  monitoring  pk APIKEYS, sk <key name>        every API key by name, for listing (one Query)
              pk ACCESSAUDIT#<yyyy-mm>, sk <at>#<id>   administrative actions on keys and users
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from chalicelib.domain.subjects import SubjectKind, SubjectRef

_KIND_PREFIX = {
    SubjectKind.customer: "CUST",
    SubjectKind.writer: "WRITER",
    SubjectKind.shop: "SHOP",
    SubjectKind.device: "DEVICE",
    SubjectKind.selection: "SEL",
}
_PREFIX_KIND = {v: k for k, v in _KIND_PREFIX.items()}

PROFILE = "PROFILE"
STATE = "STATE"
ALERT = "ALERT"
BET_PREFIX = "BET#"
LINK_PREFIX = "LINK#"
SLIP_PREFIX = "SLIP#"
OUTBOX_PENDING = "PENDING"


def iso(ts: datetime) -> str:
    """Sortable UTC timestamp used inside sort keys (fixed width, microseconds)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def subject(ref: SubjectRef) -> str:
    return f"{_KIND_PREFIX[ref.kind]}#{ref.id}"


def parse_subject(key: str) -> SubjectRef:
    prefix, _, ident = key.partition("#")
    return SubjectRef(_PREFIX_KIND[prefix], ident)


def bet(bet_id: str) -> str:
    return f"BET#{bet_id}"


def subject_bet(placed_at: datetime, bet_id: str) -> str:
    return f"{BET_PREFIX}{iso(placed_at)}#{bet_id}"


def subject_bets_between(start: datetime, end: datetime) -> tuple[str, str]:
    # "~" sorts after every character used in bet ids, so bets placed exactly at `end` are included.
    return f"{BET_PREFIX}{iso(start)}", f"{BET_PREFIX}{iso(end)}~"


# Sorts right after every BET#<placed_at>#<id> item ('~' > '#'), so the bet path's one history
# Query reads the subject's status (category, whitelist) with its bets.
SUBJECT_STATUS = "BET~STATUS"


def subject_bets_and_status(start: datetime) -> tuple[str, str]:
    return f"{BET_PREFIX}{iso(start)}", SUBJECT_STATUS


def link(other: SubjectRef) -> str:
    return f"{LINK_PREFIX}{subject(other)}"


def parse_link(sk: str) -> SubjectRef:
    return parse_subject(sk.removeprefix(LINK_PREFIX))


TAG_PREFIX = "TAG#"


def tag(customer: SubjectRef) -> str:
    """A staff tag, on the writer's partition: its bets count for this customer."""
    return f"{TAG_PREFIX}{subject(customer)}"


def job(job_id: str) -> str:
    return f"JOB#{job_id}"


def subject_slip(bet_id: str) -> str:
    return f"{SLIP_PREFIX}{bet_id}"


WRITER_STATE = "STATE"
DELTA_SHARDS = 8
CAND_PREFIX = "CAND#"


def writer_delta(ts: datetime, writer_id: str) -> str:
    """The log of accepted writer writes, by hour and shard (cached indexes read it)."""
    return f"WDELTA#{ts.astimezone(UTC).strftime('%Y-%m-%dT%H')}#{shard(writer_id, DELTA_SHARDS)}"


def writer_delta_partitions(hour: datetime) -> list[str]:
    return [f"WDELTA#{hour.astimezone(UTC).strftime('%Y-%m-%dT%H')}#{n}" for n in range(DELTA_SHARDS)]


def writer_delta_sort(ts: datetime, writer_id: str, version: int) -> str:
    return f"{iso(ts)}#{writer_id}#{version:09d}"


def candidate(other: SubjectRef) -> str:
    return f"{CAND_PREFIX}{subject(other)}"


def slip(bet_id: str) -> str:
    return f"SLIP#{bet_id}"


ACTIVITY_BUCKET_MINUTES = 5
ACTIVITY_SHARDS = 8
FEED_SHARDS = 8
CATALOGUE = "CATALOGUE"
AUDIT_PREFIX = "AUDIT#"
VERSION_PREFIX = "V#"


def shard(text: str, shards: int) -> int:
    # Stable across processes (hash() is salted per process).
    return zlib.crc32(text.encode()) % shards


def activity_bucket(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC)
    return ts.replace(minute=ts.minute - ts.minute % ACTIVITY_BUCKET_MINUTES, second=0, microsecond=0)


def activity(ts: datetime, ref: SubjectRef) -> str:
    """The partition of the activity index a subject's activity at `ts` goes to."""
    bucket = activity_bucket(ts).strftime("%Y-%m-%dT%H:%M")
    return f"NEW#{bucket}#{shard(subject(ref), ACTIVITY_SHARDS)}"


def activity_sort(ts: datetime, ref: SubjectRef) -> str:
    # The time first: a run resuming mid-bucket reads only what came after its checkpoint.
    return f"{iso(ts)}#{subject(ref)}"


def activity_range(start: datetime, end: datetime) -> tuple[str, str]:
    return iso(start), iso(end) + "~"


def activity_subject(sk: str) -> SubjectRef:
    return parse_subject(sk.split("#", 1)[1])


def activity_partitions(bucket: datetime) -> list[str]:
    name = bucket.strftime("%Y-%m-%dT%H:%M")
    return [f"NEW#{name}#{n}" for n in range(ACTIVITY_SHARDS)]


SEEN_SHARDS = 8


def seen(day: str, ref: SubjectRef) -> str:
    """Who bet on a day (by when the bet was placed): how backtests find subjects without a Scan."""
    return f"SEEN#{day}#{shard(subject(ref), SEEN_SHARDS)}"


def seen_partitions(day: str) -> list[str]:
    return [f"SEEN#{day}#{n}" for n in range(SEEN_SHARDS)]


def feed(ts: datetime, bet_id: str) -> str:
    return f"FEED#{ts.astimezone(UTC).strftime('%Y-%m-%dT%H')}#{shard(bet_id, FEED_SHARDS)}"


def feed_partitions(hour: datetime) -> list[str]:
    return [f"FEED#{hour.astimezone(UTC).strftime('%Y-%m-%dT%H')}#{n}" for n in range(FEED_SHARDS)]


def feed_sort(ts: datetime, bet_id: str) -> str:
    return f"{iso(ts)}#{bet_id}"


# Bet files' other records: a knockback or SMS request by id in `bets`, a customer's knockbacks
# in `subjects` (after its BET~STATUS item, so the bet path's Query does not read them), the open
# SMS requests in `monitoring`, and their feed rows under ids that cannot meet a bet's.
KB_PREFIX = "KB#"
SMS_OPEN = "SMSOPEN"


def knockback(knockback_id: str) -> str:
    return f"{KB_PREFIX}{knockback_id}"


def subject_knockback(attempted_at: datetime, knockback_id: str) -> str:
    return f"{KB_PREFIX}{iso(attempted_at)}#{knockback_id}"


def subject_knockbacks_between(start: datetime, end: datetime) -> tuple[str, str]:
    return f"{KB_PREFIX}{iso(start)}", f"{KB_PREFIX}{iso(end)}~"


def sms(wager_number: str) -> str:
    return f"SMS#{wager_number}"


def sms_open_sort(received_at: datetime, wager_number: str) -> str:
    return f"{iso(received_at)}#{wager_number}"


def feed_record(record_type: str, record_id: str) -> str:
    """The id a knockback's or SMS request's feed row is keyed by (a bet's is its bet id)."""
    return f"{record_type}:{record_id}"


def run_state(name: str) -> str:
    return f"RUNSTATE#{name}"


def rule_state(rule_id: str, ref: SubjectRef) -> str:
    return f"RULESTATE#{rule_id}#{subject(ref)}"


def snooze(rule_id: str, ref: SubjectRef) -> str:
    return f"SNOOZE#{rule_id}#{subject(ref)}"


def rule(rule_id: str) -> str:
    return f"RULE#{rule_id}"


def rule_version(version: int) -> str:
    return f"{VERSION_PREFIX}{version:06d}"


def audit(at: datetime, event_id: str) -> str:
    return f"{AUDIT_PREFIX}{iso(at)}#{event_id}"


def alert(alert_id: str) -> str:
    return f"ALERT#{alert_id}"


def alert_sort(raised_at: datetime, alert_id: str) -> str:
    return f"{iso(raised_at)}#{alert_id}"


def day(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d")


def api_key(digest: str) -> str:
    return f"KEY#{digest}"


def user(username: str) -> str:
    return f"USER#{username}"


UNDATED = "-"  # sorts before every yyyy-mm-dd


EVENT_SHARDS = 8  # a big race takes thousands of bets a minute: one partition per event would be hot


def event_open(event_key: str, bet_id: str) -> str:
    """The open bets on an event (by results.event_key): what a result settles, without a Scan;
    sharded by bet id (a result Queries every shard)."""
    return f"EVENT#{event_key}#{shard(bet_id, EVENT_SHARDS)}"


def event_open_shards(event_key: str) -> list[str]:
    return [f"EVENT#{event_key}#{n}" for n in range(EVENT_SHARDS)]


def event_settled(event_key: str, result_date: str | None, bet_id: str) -> str:
    """Bets settled with an event's result of that date (a corrected result re-settles them)."""
    return f"SETTLED#{event_key}#{result_date or UNDATED}#{shard(bet_id, EVENT_SHARDS)}"


def event_settled_shards(event_key: str, result_date: str | None) -> list[str]:
    return [f"SETTLED#{event_key}#{result_date or UNDATED}#{n}" for n in range(EVENT_SHARDS)]


def result(event_key: str) -> str:
    return f"RESULT#{event_key}"


def import_job(import_id: str) -> str:
    return f"IMPORT#{import_id}"


API_KEYS = "APIKEYS"


def api_key_name(name: str) -> str:
    return name


def login_failures(who: str, window: str) -> str:
    return f"LOGINFAIL#{who}#{window}"


def access_audit_month(at: datetime) -> str:
    return f"ACCESSAUDIT#{at.astimezone(UTC).strftime('%Y-%m')}"


def access_audit(at: datetime, event_id: str) -> str:
    return f"{iso(at)}#{event_id}"
