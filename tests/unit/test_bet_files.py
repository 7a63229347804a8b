"""Raw bet files through the consumer on in-memory fakes: parsing → recording, idempotency,
quarantine, mixed batches with partial failures, knockbacks in profiles and rules, SMS requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core import config
from chalicelib.domain.intake import FileRef, SmsStatus
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.bet_files import Outcome
from tests.helpers import JWT_SECRET, Api, make_api

SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"
# A fixed instant (midday UTC, November: UK time = UTC); every file below is dated relative to it.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def uk(ts: datetime) -> str:
    return f"{ts:%d/%m/%Y %H:%M:%S}"  # November: Europe/London is UTC


def bet_file(
    wager: str = "1234567", customer: str = "ABC123", stake: str = "10.00", at: datetime | None = None
) -> bytes:
    when = uk(at or NOW - timedelta(hours=1))
    return (
        f"Wager Number - {wager} / Customer Reference - {customer} / Customer Risk Category - W\n"
        f"Bet placed on {when}\n"
        "Ascot, 14:30, - Sea Bird at 5.5\n"
        f"Bets Win Only: 1 Single. Unit Stake: £{stake}, Payment: £{stake}.\n"
        f"Wagers : 1 x £{stake} : Single\n"
    ).encode()


def knockback_file(kb_id: str = "KB-1", customer: str = "ABC123", at: datetime | None = None) -> bytes:
    return (
        f"Knockback Details: {kb_id}\n"
        f"Customer Ref: {customer}\n"
        "- Error Message: Maximum liability exceeded on selection\n"
        "- Liability Exceeded: True\n"
        "- Maximum stake available: £2.50\n"
        f"{uk(at or NOW - timedelta(minutes=30))}\n"
        "- Meeting Name: Ascot 14:30\n"
        "- Selection Name: Sea Bird\n"
        "- Bet Price: 5.5\n"
        "- Wager Name: Single\n"
        "- Total Stake: £50.00\n"
    ).encode()


def sms_file(wager: str = "5550123", text: str = "£5 win Sea Bird 14:30 Ascot", dated: bool = False) -> bytes:
    received = f"Received: {uk(NOW - timedelta(minutes=10))}\n" if dated else ""
    return (
        f"Wager Number = {wager}\nCustomer Reference: ABC123\nMobile Number: 07700 900123\n{received}"
        f"SMS Wager Text: {text}\n"
    ).encode()


@pytest.fixture
def c(monkeypatch: pytest.MonkeyPatch) -> Iterator[wiring.Container]:
    for name in list(__import__("os").environ):
        if name.startswith("BETWATCH_"):
            monkeypatch.delenv(name)
    container = wiring.in_memory(config.from_env({"BETWATCH_JWT_SECRET": JWT_SECRET}), clock=lambda: NOW)
    wiring.use(container)
    yield container
    wiring.use(None)


@pytest.fixture
def api(c: wiring.Container) -> Iterator[Api]:
    import app as app_module

    with Client(app_module.app) as client:
        yield make_api(client)


def bucket(c: wiring.Container) -> str:
    return c.settings.bucket("bet-files")


def drop(c: wiring.Container, name: str, data: bytes, at: datetime = NOW) -> FileRef:
    key = f"incoming/{name}"
    c.adapters.objects.write(bucket(c), key, data)
    return FileRef(bucket=bucket(c), key=key, size=len(data), event_time=at)


def objects(c: wiring.Container) -> dict[str, bytes]:
    files = c.adapters.objects
    return {k: v for (b, k), v in files.objects.items() if b == bucket(c)}  # type: ignore[attr-defined]


def feed(c: wiring.Container, record_type: str | None = None) -> list[Any]:
    from chalicelib.domain.feed import FeedFilter

    rows, _, _ = c.feed.page(FeedFilter(record_type=record_type), 100)
    return rows


# --- website bets ---------------------------------------------------------------------------------


def test_a_website_bet_is_recorded_through_the_recorder_with_the_wager_number_as_bet_id(c: wiring.Container) -> None:
    assert c.bet_files.process(drop(c, "b1.txt", bet_file())) is Outcome.bet
    bet = c.recorder.get("1234567")
    assert bet is not None
    assert (bet.customer_id, bet.channel.value, bet.stake_minor, bet.bet_type.value) == (
        "ABC123",
        "online",
        1000,
        "single",
    )
    assert bet.placed_at == NOW - timedelta(hours=1) and bet.risk.level  # scored
    assert bet.selections[0].event == "14:30 Ascot" and bet.selections[0].decimal_odds == 5.5
    profile = c.profiles.summary(SubjectRef.customer("ABC123"))
    assert profile.profile.bets_total == 1 and profile.windows["24h"].stake_minor == 1000
    assert [r.record_id for r in feed(c, "bet")] == ["1234567"]


def test_the_same_bet_file_again_changes_nothing(c: wiring.Container) -> None:
    data = bet_file()
    assert c.bet_files.process(drop(c, "b1.txt", data)) is Outcome.bet
    assert c.bet_files.process(drop(c, "b1.txt", data)) is Outcome.duplicate  # re-delivered
    crlf = data.replace(b"\n", b"\r\n").replace(b" / ", b"  /  ")
    assert c.bet_files.process(drop(c, "again/b1-copy.txt", crlf)) is Outcome.duplicate  # re-uploaded, reformatted
    assert c.adapters.subjects.profile(SubjectRef.customer("ABC123")).bets_total == 1  # type: ignore[union-attr]
    assert len(feed(c)) == 1 and not any(k.startswith("quarantine/") for k in objects(c))


def test_a_sample_bet_from_the_fixtures_is_recorded_in_utc(c: wiring.Container) -> None:
    assert c.bet_files.process(drop(c, "s.txt", (SAMPLES / "bet_cp1252_pound.txt").read_bytes())) is Outcome.bet
    assert c.bet_files.process(drop(c, "t.txt", (SAMPLES / "bet_single_decimal.txt").read_bytes())) is Outcome.bet
    bet = c.recorder.get("1234567")
    assert bet is not None and bet.placed_at == datetime(2025, 5, 1, 13, 2, 11, tzinfo=UTC)  # 14:02 BST


# --- quarantine -----------------------------------------------------------------------------------


def _note(c: wiring.Container, key: str) -> dict[str, Any]:
    return dict(json.loads(objects(c)[key + ".error.json"]))


@pytest.mark.parametrize(
    ("sample", "line", "needle"),
    [
        ("bet_missing_customer.txt", None, "Customer Reference"),
        ("bet_payment_mismatch.txt", 4, "payment"),
        ("knockback_bad_flag.txt", 4, "not True or False"),
        ("sms_bad_mobile.txt", 3, "not a phone number"),
        ("binary.bin", None, "not a text file"),
    ],
)
def test_a_file_that_cannot_be_parsed_is_quarantined_with_its_line_and_nothing_is_recorded(
    c: wiring.Container, sample: str, line: int | None, needle: str
) -> None:
    data = (SAMPLES / sample).read_bytes()
    assert c.bet_files.process(drop(c, f"day/{sample}", data)) is Outcome.quarantined
    files = objects(c)
    assert f"incoming/day/{sample}" not in files and files[f"quarantine/day/{sample}"] == data
    note = _note(c, f"quarantine/day/{sample}")
    assert note["line"] == line and needle in note["error"], note
    assert note["file"] == f"incoming/day/{sample}" and note["size"] == len(data)
    assert feed(c) == [] and c.adapters.bets.items == {}  # type: ignore[attr-defined]
    assert c.adapters.intake.kbs == {} and c.adapters.intake.sms_map == {}  # type: ignore[attr-defined]


def test_a_file_over_the_size_limit_is_quarantined_unread(c: wiring.Container, monkeypatch: pytest.MonkeyPatch) -> None:
    big = b"Wager Number - 1\n" + b"x" * (c.settings.bet_file_max_bytes + 10)
    ref = drop(c, "big.txt", big)
    monkeypatch.setattr(c.adapters.objects, "read_upto", lambda *a: pytest.fail("an oversized file was read"))
    assert c.bet_files.process(ref) is Outcome.quarantined
    note = _note(c, "quarantine/big.txt")
    assert note["line"] is None and "over the 65,536-byte limit" in note["error"]
    assert objects(c)["quarantine/big.txt"] == big


def test_a_redelivery_after_the_quarantine_finds_nothing_to_do(c: wiring.Container) -> None:
    ref = drop(c, "bad.txt", (SAMPLES / "bet_truncated.txt").read_bytes())
    assert c.bet_files.process(ref) is Outcome.quarantined
    assert c.bet_files.process(ref) is Outcome.missing
    assert sorted(objects(c)) == ["quarantine/bad.txt", "quarantine/bad.txt.error.json"]


def test_a_wager_number_reused_with_other_details_is_quarantined_and_the_bet_kept(c: wiring.Container) -> None:
    assert c.bet_files.process(drop(c, "a.txt", bet_file(stake="10.00"))) is Outcome.bet
    assert c.bet_files.process(drop(c, "b.txt", bet_file(stake="20.00"))) is Outcome.quarantined
    assert "already recorded with different details" in _note(c, "quarantine/b.txt")["error"]
    assert c.recorder.get("1234567").stake_minor == 1000  # type: ignore[union-attr]


def test_a_bet_the_api_would_refuse_is_quarantined(c: wiring.Container) -> None:
    future = datetime.now(UTC) + timedelta(days=400)
    assert c.bet_files.process(drop(c, "f.txt", bet_file(at=future))) is Outcome.quarantined
    assert "placed_at is in the future" in _note(c, "quarantine/f.txt")["error"]
    assert c.recorder.get("1234567") is None


# --- knockbacks -----------------------------------------------------------------------------------


def test_a_knockback_is_stored_counted_in_the_profile_and_fed(c: wiring.Container, api: Api) -> None:
    assert c.bet_files.process(drop(c, "k1.txt", knockback_file("KB-1"))) is Outcome.knockback
    assert c.bet_files.process(drop(c, "k1.txt", knockback_file("KB-1"))) is Outcome.duplicate
    assert c.bet_files.process(drop(c, "b1.txt", bet_file())) is Outcome.bet

    got = api.get("/knockbacks?customer_id=ABC123").json_body["knockbacks"]
    assert len(got) == 1
    kb = got[0]["knockback"]
    assert kb["error_message"] == "Maximum liability exceeded on selection" and kb["liability_exceeded"] is True
    assert kb["max_stake_minor"] == 250 and kb["total_stake_minor"] == 5000
    assert api.get("/knockbacks/KB-1").json_body["source"] == "incoming/k1.txt"
    assert api.get("/knockbacks/KB-404").status_code == 404

    cust = api.get("/customers/ABC123").json_body
    assert cust["knockbacks_total"] == 1 and cust["bets_total"] == 1
    assert cust["knockback_windows"]["24h"] == {"knockbacks": 1, "kb_pct": 50.0}

    rows = api.get("/feed?record_type=knockback").json_body["rows"]
    assert [(r["record_type"], r["record_id"], r["stake_minor"]) for r in rows] == [("knockback", "KB-1", 5000)]
    assert rows[0]["detail"].startswith("Maximum liability") and rows[0]["status"] == "liability_exceeded"
    assert rows[0]["offered_minor"] == 250  # the most the operator would have taken, on the row
    assert {r["record_type"] for r in api.get("/feed").json_body["rows"]} == {"bet", "knockback"}


def test_a_knockback_id_reused_with_other_details_is_quarantined(c: wiring.Container) -> None:
    assert c.bet_files.process(drop(c, "k1.txt", knockback_file("KB-1"))) is Outcome.knockback
    other = knockback_file("KB-1").replace(b"\xc2\xa350.00", b"\xc2\xa360.00")
    assert c.bet_files.process(drop(c, "k2.txt", other)) is Outcome.quarantined
    assert c.intake.knockback("KB-1").knockback.total_stake_minor == 5000


def test_knockbacks_are_available_to_rules(c: wiring.Container, api: Api) -> None:
    rule = {
        "rule_id": "knockbacks_customer",
        "name": "Three knockbacks in 24 h",
        "subject_kind": "customer",
        "params": {"kind": "knockbacks", "min_count": 3, "min_kb_pct": 50},
    }
    assert api.post("/rules", rule, {"x-api-key": api.admin_key}).status_code == 201
    c.bet_files.process(drop(c, "b.txt", bet_file()))
    for n in (1, 2):
        c.bet_files.process(drop(c, f"k{n}.txt", knockback_file(f"KB-{n}", at=NOW - timedelta(minutes=n))))
    assert not [a for a in c.monitor.evaluate(NOW) if a.rule_id == "knockbacks_customer"]  # 2 < 3
    c.bet_files.process(drop(c, "k3.txt", knockback_file("KB-3", at=NOW - timedelta(minutes=3))))
    (alert,) = [a for a in c.monitor.evaluate(NOW) if a.rule_id == "knockbacks_customer"]
    assert alert.subject.id == "ABC123" and alert.metric.value == 3
    assert "KB 75.0 %" in alert.detail and "KB-3" in alert.detail


# --- SMS wagers -----------------------------------------------------------------------------------


def test_an_sms_in_a_common_form_becomes_a_bet_and_a_request(c: wiring.Container, api: Api) -> None:
    assert c.bet_files.process(drop(c, "s1.txt", sms_file(), at=NOW - timedelta(minutes=2))) is Outcome.sms
    bet = c.recorder.get("5550123")
    assert bet is not None and bet.channel.value == "sms" and bet.stake_minor == 500
    assert bet.placed_at == NOW - timedelta(minutes=2)  # no date line: when the file arrived
    req = api.get("/sms-requests/5550123").json_body
    assert req["status"] == "recorded" and req["bet_id"] == "5550123" and req["mobile"] == "+4477009•••••"
    assert "900123" not in json.dumps(req)
    assert api.get("/sms-requests").json_body["requests"] == []  # nothing open
    # Re-uploaded later (another S3 event time): the stored request's time is kept, nothing new.
    assert c.bet_files.process(drop(c, "s1-again.txt", sms_file(), at=NOW)) is Outcome.duplicate
    assert sorted(r.record_type for r in feed(c)) == ["bet", "sms"]


def test_an_sms_nobody_can_read_as_a_bet_is_open_for_staff_until_closed(c: wiring.Container, api: Api) -> None:
    data = (SAMPLES / "sms_unparsed_multiline.txt").read_bytes()
    assert c.bet_files.process(drop(c, "s2.txt", data)) is Outcome.sms
    assert c.recorder.get("5550125") is None
    (req,) = api.get("/sms-requests").json_body["requests"]
    assert req["status"] == "open" and "favourite in the 3.15" in req["text"] and "common form" in req["problem"]
    (row,) = api.get("/feed?record_type=sms").json_body["rows"]
    assert row["status"] == "open" and row["customer_id"] == "ABC125" and "447700900125" not in json.dumps(row)

    def close(wager: str, body: dict[str, str]) -> Any:
        headers = {**api.staff(), "content-type": "application/json"}
        return api.c.http.post(f"/sms-requests/{wager}/close", body=json.dumps(body), headers=headers)

    r = close("5550125", {"note": "called Dave, placed by hand", "bet_id": "manual-1"})
    assert r.status_code == 200 and r.json_body["status"] == "closed" and r.json_body["closed_by"].startswith("user:")
    assert api.get("/sms-requests").json_body["requests"] == []
    (row,) = api.get("/feed?record_type=sms").json_body["rows"]
    assert row["status"] == "closed"  # the feed row follows
    again = close("5550125", {"note": "twice"})
    assert again.status_code == 409 and again.json_body["error"] == "not_open"
    assert close("none", {"note": "nope"}).status_code == 404
    assert api.post("/sms-requests/5550125/close", {"note": "till"}).status_code == 403  # ingest key: not staff
    assert c.bet_files.process(drop(c, "s2.txt", data)) is Outcome.duplicate
    assert c.intake.sms("5550125").status is SmsStatus.closed  # a redelivery does not reopen it


def test_an_sms_whose_wager_number_is_taken_stays_open_with_the_reason(c: wiring.Container) -> None:
    assert c.bet_files.process(drop(c, "b.txt", bet_file(wager="5550123"))) is Outcome.bet
    assert c.bet_files.process(drop(c, "s.txt", sms_file(wager="5550123", dated=True))) is Outcome.sms
    req = c.intake.sms("5550123")
    assert req.status is SmsStatus.open and "already a bet" in (req.problem or "")
    assert c.recorder.get("5550123").channel.value == "online"  # type: ignore[union-attr]


def test_a_stored_sms_whose_bet_was_not_recorded_yet_is_finished_by_the_redelivery(
    c: wiring.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = drop(c, "s.txt", sms_file(dated=True))
    real = c.recorder.record
    monkeypatch.setattr(c.recorder, "record", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("db down")))
    with pytest.raises(ConnectionError):
        c.bet_files.process(ref)
    assert c.intake.sms("5550123").status is SmsStatus.recorded and c.recorder.get("5550123") is None
    monkeypatch.setattr(c.recorder, "record", real)
    assert c.bet_files.process(ref) is Outcome.duplicate
    assert c.recorder.get("5550123") is not None


# --- the consumer: a mixed SQS batch --------------------------------------------------------------


def _s3_body(ref: FileRef) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "eventTime": ref.event_time.isoformat() if ref.event_time else None,
                    "s3": {
                        "bucket": {"name": ref.bucket},
                        "object": {"key": ref.key.replace(" ", "+"), "size": ref.size},  # URL-encoded, as S3 sends
                    },
                }
            ]
        }
    )


def test_a_mixed_batch_records_the_good_files_quarantines_the_bad_and_retries_only_the_failed(
    c: wiring.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app as app_module

    refs = [
        drop(c, "batch/good bet.txt", bet_file()),
        drop(c, "batch/bad.txt", (SAMPLES / "bet_payment_mismatch.txt").read_bytes()),
        drop(c, "batch/kb.txt", knockback_file("KB-9")),
        drop(c, "batch/sms.txt", sms_file(dated=True)),
    ]
    real = c.adapters.intake.record_knockback

    def aws_down(*a: Any) -> bool:
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(c.adapters.intake, "record_knockback", aws_down)
    with Client(app_module.app) as client:
        event = client.events.generate_sqs_event([_s3_body(r) for r in refs], queue_name="bet-files")
        event["Records"].append({**event["Records"][0], "messageId": "test-event", "body": '{"Event": "s3:TestEvent"}'})
        result = client.lambda_.invoke("ingest_bet_files", event).payload
    kb_message = event["Records"][2]["messageId"]
    assert result == {"batchItemFailures": [{"itemIdentifier": kb_message}]}
    assert c.recorder.get("1234567") is not None and c.recorder.get("5550123") is not None
    files = objects(c)
    assert "quarantine/batch/bad.txt.error.json" in files and "incoming/batch/bad.txt" not in files
    assert "incoming/batch/kb.txt" in files and not any("kb.txt" in k for k in files if k.startswith("quarantine/"))

    monkeypatch.setattr(c.adapters.intake, "record_knockback", real)  # the redelivery succeeds
    with Client(app_module.app) as client:
        again = client.lambda_.invoke("ingest_bet_files", event).payload
    assert again == {"batchItemFailures": []}
    assert c.intake.knockback("KB-9") is not None and len(feed(c, "bet")) == 2


def test_the_readme_examples_are_what_the_consumer_takes_and_writes() -> None:
    import re

    from chalicelib.domain.betfiles import Knockback, SmsWager, WebsiteBet, parse_bet_file
    from chalicelib.domain.intake import QuarantineNote

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Bet files", 1)[1].split("\n## ", 1)[0]
    texts = re.findall(r"```text\n(.*?)```", section, re.S)
    assert [type(parse_bet_file(t.encode())) for t in texts] == [WebsiteBet, Knockback, SmsWager]
    (note,) = re.findall(r"```json\n(.*?)```", section, re.S)
    QuarantineNote.model_validate_json(note)


def test_the_daily_report_counts_the_files_knockbacks_and_sms_requests(c: wiring.Container) -> None:
    c.bet_files.process(drop(c, "b.txt", bet_file()))
    c.bet_files.process(drop(c, "k1.txt", knockback_file("KB-1")))
    c.bet_files.process(drop(c, "k2.txt", knockback_file("KB-2")))
    c.bet_files.process(drop(c, "s.txt", (SAMPLES / "sms_unparsed_multiline.txt").read_bytes()))
    t = c.reports.daily(NOW.date()).totals
    assert (t.bets, t.knockbacks, t.sms_requests, t.kb_pct) == (1, 2, 1, 66.7)


def test_a_knockbacks_rule_is_for_customers_and_validates_its_params() -> None:
    from pydantic import ValidationError

    from chalicelib.domain.rules import RuleSpec

    ok = RuleSpec.model_validate(
        {"name": "kb", "subject_kind": "customer", "params": {"kind": "knockbacks", "min_count": 2}}
    )
    assert ok.params.kind == "knockbacks" and ok.params.lookback() == timedelta(hours=24)
    with pytest.raises(ValidationError, match="applies to customer"):
        RuleSpec.model_validate({"name": "kb", "subject_kind": "writer", "params": {"kind": "knockbacks"}})
    with pytest.raises(ValidationError):
        RuleSpec.model_validate(
            {"name": "kb", "subject_kind": "customer", "params": {"kind": "knockbacks", "min_kb_pct": 150}}
        )


def test_the_consumer_may_read_incoming_and_move_to_quarantine_only() -> None:
    from chalicelib.core import access, resources

    class Arns:
        def table(self, logical: str) -> str:
            return f"arn:table/{logical}"

        def queue(self, logical: str) -> str:
            return f"arn:queue/{logical}"

        def bucket(self, logical: str) -> str:
            return f"arn:s3:::{logical}"

        def topic(self, logical: str) -> str:
            return f"arn:topic/{logical}"

        def topic_key(self, logical: str) -> str | None:
            return None

        def secret(self, logical: str) -> str:
            return f"arn:secret/{logical}"

    def s3_grants(name: str) -> set[tuple[str, str]]:
        out = access.statements(resources.function(name), Arns())
        return {(a, r) for st in out for a in st.actions if a.startswith("s3:") for r in st.resources}

    assert s3_grants("ingest_bet_files") == {
        ("s3:GetObject", "arn:s3:::bet-files/incoming/*"),
        ("s3:PutObject", "arn:s3:::bet-files/quarantine/*"),
        ("s3:DeleteObject", "arn:s3:::bet-files/incoming/*"),
        ("s3:ListBucket", "arn:s3:::bet-files"),
    }
    others = [f.name for f in resources.FUNCTIONS if f.name != "ingest_bet_files"]
    assert not any("bet-files" in r for name in others for _, r in s3_grants(name))
    q = resources.queue("bet-files")
    assert q.consumer == "app:ingest_bet_files" and resources.function("ingest_bet_files").consumes == ("bet-files",)
    b = resources.bucket("bet-files")
    assert (b.env_var, b.notify_queue, b.notify_prefix) == ("BETWATCH_BUCKET_BET_FILES", "bet-files", "incoming/")


def test_the_customer_report_counts_its_knockbacks(c: wiring.Container) -> None:
    c.bet_files.process(drop(c, "b.txt", bet_file()))
    c.bet_files.process(drop(c, "k1.txt", knockback_file("KB-1")))
    report = c.reports.subject(SubjectRef.customer("ABC123"), days=7)
    assert (report.totals.bets, report.totals.knockbacks, report.totals.kb_pct) == (1, 1, 50.0)
    assert report.totals.stake_minor == 1000  # a knockback's stake was refused: not staked
