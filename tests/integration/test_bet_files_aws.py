"""Bet files through the real adapters on moto: the bucket's notification reaches the queue, the
consumer's stores (DynamoDB) keep knockbacks and SMS requests with their feed rows and profile
counts, and the S3 moves (ranged reads, copy, delete) of the quarantine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib import wiring
from chalicelib.core import aws, config
from chalicelib.domain.betfiles import parse_bet_file
from chalicelib.domain.feed import FeedFilter
from chalicelib.domain.intake import FileRef, KnockbackRecord, S3Notification, SmsRequest, SmsStatus, file_refs
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.bet_files import Outcome, digest

SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _bucket() -> str:
    return config.settings().bucket("bet-files")


def _put(key: str, data: bytes) -> FileRef:
    aws.client("s3").put_object(Bucket=_bucket(), Key=key, Body=data)
    return FileRef(bucket=_bucket(), key=key, size=len(data), event_time=AT)


def _keys(prefix: str = "") -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=_bucket(), Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_a_file_dropped_under_incoming_notifies_the_queue(provisioned: dict[str, str]) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=config.settings().queue("bet-files"))["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)  # the s3:TestEvent
    _put("incoming/a b.txt", b"x")
    _put("elsewhere/c.txt", b"x")  # outside the prefix: no event
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    (body,) = [json.loads(m["Body"]) for m in got]
    (ref,) = file_refs(S3Notification.model_validate(body))
    assert (ref.bucket, ref.key, ref.size) == (_bucket(), "incoming/a b.txt", 1)  # URL-encoded in the event
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] == 5


def test_objects_read_bounded_copied_and_deleted(provisioned: dict[str, str]) -> None:
    files = wiring.aws_adapters(config.settings()).objects
    b = _bucket()
    assert files.read_upto(b, "incoming/none.txt", 10) is None
    _put("incoming/empty.txt", b"")
    assert files.read_upto(b, "incoming/empty.txt", 10) == b""
    _put("incoming/long.txt", b"0123456789" * 3)
    assert files.read_upto(b, "incoming/long.txt", 10) == b"01234567890"  # limit + 1: over-size is seen
    assert files.copy(b, "incoming/long.txt", "quarantine/long.txt") is True
    files.delete(b, "incoming/long.txt")
    assert files.copy(b, "incoming/long.txt", "quarantine/again.txt") is False
    assert _keys() == ["incoming/empty.txt", "quarantine/long.txt"]


def test_knockbacks_stored_counted_and_fed_in_dynamodb(provisioned: dict[str, str]) -> None:
    a = wiring.aws_adapters(config.settings())
    kb = parse_bet_file((SAMPLES / "knockback_liability.txt").read_bytes())
    record = KnockbackRecord(knockback=kb, source="incoming/k.txt", recorded_at=AT)  # type: ignore[arg-type]
    assert a.intake.record_knockback(record, digest(kb)) is True
    assert a.intake.record_knockback(record, digest(kb)) is False  # the id exists: nothing written twice
    stored = a.intake.knockback("KB-20250501-0042")
    assert stored is not None and stored.record == record and stored.fingerprint == digest(kb)
    when = kb.attempted_at  # type: ignore[union-attr]
    assert a.intake.knockbacks("ABC123", when - timedelta(hours=1), when + timedelta(hours=1)) == [record]
    assert a.intake.knockbacks("ABC123", when + timedelta(seconds=1), when + timedelta(hours=1)) == []
    profile = a.subjects.profile(SubjectRef.customer("ABC123"))
    assert profile is not None and profile.knockbacks_total == 1 and profile.bets_total == 0
    # The bet path's one history Query does not read knockbacks.
    bets, _ = a.subjects.recent(SubjectRef.customer("ABC123"), when - timedelta(days=30), when + timedelta(days=1))
    assert bets == []
    assert SubjectRef.customer("ABC123") in a.activity.active_between(AT - timedelta(minutes=1), AT)
    rows, _ = a.feed.page(
        AT - timedelta(hours=1), AT + timedelta(hours=1), None, 10, FeedFilter(record_type="knockback")
    )
    (row,) = rows
    assert (row.record_id, row.customer_id, row.stake_minor, row.status) == (
        "KB-20250501-0042",
        "ABC123",
        5000,
        "liability_exceeded",
    )
    assert row.detail == kb.error_message and row.selections == ["Sea Bird (14:30 Ascot)"]  # type: ignore[union-attr]
    assert (
        a.feed.page(AT - timedelta(hours=1), AT + timedelta(hours=1), None, 10, FeedFilter(record_type="bet"))[0] == []
    )


def _sms(wager: str, minutes: int, status: SmsStatus = SmsStatus.open) -> SmsRequest:
    return SmsRequest(
        wager_number=wager,
        customer_id="ABC123",
        mobile_number="+447700900123",
        text="a fiver on the favourite",
        received_at=AT + timedelta(minutes=minutes),
        status=status,
        source=f"incoming/{wager}.txt",
        recorded_at=AT,
    )


def test_sms_requests_open_list_pages_and_follows_the_status(provisioned: dict[str, str]) -> None:
    a = wiring.aws_adapters(config.settings())
    for n in range(3):
        assert a.intake.record_sms(_sms(f"W{n}", n), f"fp{n}") is True
    assert a.intake.record_sms(_sms("W0", 0), "fp0") is False
    assert a.intake.record_sms(_sms("R1", 5, SmsStatus.recorded), "fpr") is True
    first, cursor = a.intake.open_sms(2, None)
    assert [r.wager_number for r in first] == ["W0", "W1"] and cursor
    rest, _ = a.intake.open_sms(2, cursor)
    assert [r.wager_number for r in rest] == ["W2"]

    closed = _sms("W1", 1).model_copy(update={"status": SmsStatus.closed, "closed_by": "user:alice", "note": "done"})
    assert a.intake.update_sms(closed, SmsStatus.open) is True
    assert a.intake.update_sms(closed, SmsStatus.open) is False  # no longer open: a second close loses
    assert [r.wager_number for r in a.intake.open_sms(10, None)[0]] == ["W0", "W2"]
    stored = a.intake.sms("W1")
    assert stored is not None and stored.request.status is SmsStatus.closed and stored.fingerprint == "fp1"
    reopened = _sms("R1", 5).model_copy(update={"problem": "the bet was refused"})
    assert a.intake.update_sms(reopened, SmsStatus.recorded) is True
    assert [r.wager_number for r in a.intake.open_sms(10, None)[0]] == ["W0", "W2", "R1"]
    rows, _ = a.feed.page(AT - timedelta(hours=1), AT + timedelta(hours=1), None, 10, FeedFilter(record_type="sms"))
    assert len(rows) == 4 and all("900123" not in r.model_dump_json() for r in rows)
    assert {r.record_id: r.status for r in rows} == {"W0": "open", "W1": "closed", "W2": "open", "R1": "open"}


def test_the_consumer_records_and_quarantines_through_the_real_adapters(provisioned: dict[str, str]) -> None:
    c = wiring.container()
    good = _put("incoming/bet.txt", (SAMPLES / "bet_each_way_double.txt").read_bytes())
    bad = _put("incoming/bad.txt", (SAMPLES / "bet_treble_wrong_count.txt").read_bytes())
    sms = _put("incoming/sms.txt", (SAMPLES / "sms_unparsed_multiline.txt").read_bytes())
    assert c.bet_files.process(good) is Outcome.bet
    assert c.bet_files.process(good) is Outcome.duplicate
    assert c.bet_files.process(bad) is Outcome.quarantined
    assert c.bet_files.process(bad) is Outcome.missing
    assert c.bet_files.process(sms) is Outcome.sms
    record = parse_bet_file((SAMPLES / "bet_each_way_double.txt").read_bytes())
    bet = c.recorder.get(record.wager_number)  # type: ignore[union-attr]
    assert bet is not None and bet.each_way and bet.bet_type.value == "double"
    assert _keys("quarantine/") == ["quarantine/bad.txt", "quarantine/bad.txt.error.json"]
    note = json.loads(aws.client("s3").get_object(Bucket=_bucket(), Key="quarantine/bad.txt.error.json")["Body"].read())
    assert isinstance(note["line"], int) and "selections" in note["error"]
    assert [r.wager_number for r in c.intake.open_sms(10, None)[0]] == ["5550125"]
