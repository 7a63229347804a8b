"""Every DynamoDB key format, in one place: nothing outside the adapters formats or parses them.

Tables (declared in core/resources.py):
  bets        pk BET#<bet id>
  subjects    pk CUST#<customer id> | WRITER#<writer id>
                sk PROFILE                     running totals (ADD updates)
                sk BET#<placed_at>#<bet id>    one item per bet: exact rolling windows by Query (TTL)
                sk LINK#<kind>#<id>            customer <-> writer links, on both sides
                sk SLIP#<bet id>               a writer's slips (on the customer too, for its profile)
              pk WRITERS, sk W#<writer id>     writers' centroids for open-set matching
  slips       pk SLIP#<bet id>
  monitoring  pk ACTIVE#<yyyy-mm-ddThh>, sk <subject key>   who bet in that hour (TTL)
              pk RULESTATE#<rule>#<subject key>, sk STATE   a rule's cooldown for a subject
  alerts      pk ALERT#<alert id>, sk ALERT    the alert; GSIs by_day, by_status, by_subject and the
                                               sparse outbox (alerts not yet published)
  principals  pk KEY#<sha256 of the key> | USER#<username>
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.subjects import SubjectKind, SubjectRef

_KIND_PREFIX = {SubjectKind.customer: "CUST", SubjectKind.writer: "WRITER"}
_PREFIX_KIND = {v: k for k, v in _KIND_PREFIX.items()}

PROFILE = "PROFILE"
STATE = "STATE"
ALERT = "ALERT"
WRITERS = "WRITERS"
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


def link(other: SubjectRef) -> str:
    return f"{LINK_PREFIX}{subject(other)}"


def parse_link(sk: str) -> SubjectRef:
    return parse_subject(sk.removeprefix(LINK_PREFIX))


def subject_slip(bet_id: str) -> str:
    return f"{SLIP_PREFIX}{bet_id}"


def writer_centroid(writer_id: str) -> str:
    return f"W#{writer_id}"


def slip(bet_id: str) -> str:
    return f"SLIP#{bet_id}"


def active_hour(ts: datetime) -> str:
    return "ACTIVE#" + ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def rule_state(rule_id: str, ref: SubjectRef) -> str:
    return f"RULESTATE#{rule_id}#{subject(ref)}"


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
