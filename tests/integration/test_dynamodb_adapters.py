"""Each DynamoDB adapter on moto: the bet transaction, conditional writes, the slip states, the
writer assignment with its optimistic check, alerts with cooldowns and the outbox, principals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.core import aws, config
from chalicelib.domain.alerts import Alert, Metric
from chalicelib.domain.bets import Bet, BetIn, History
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import ApiKeyRecord, SlipAssignment, StaleWrite, UserRecord, WriterState
from chalicelib.services.recording import BetRecorder
from tests.helpers import bet_body

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
C = SubjectRef.customer("C100")


def _scan_count(logical: str) -> int:
    # Tests may Scan to prove what was written; the app never does.
    return int(aws.client("dynamodb").scan(TableName=config.settings().table(logical), Select="COUNT")["Count"])


def make_bet(adapters: wiring.Adapters, **kw: Any) -> Bet:
    from chalicelib.adapters.memory import FixedScorer

    rec = BetRecorder(adapters.bets, adapters.subjects, FixedScorer(), "GBP")
    body = BetIn.model_validate(bet_body(placed_at=NOW.isoformat(), **kw))
    return rec.build(body, kw.get("bet_id") or "B-1", "test", History())


def test_bet_and_its_customer_items_in_one_transaction(adapters: wiring.Adapters) -> None:
    bet = make_bet(adapters, bet_id="B-1", stake="12.50")
    assert adapters.bets.record(bet, "fp1", [C]) is True
    assert adapters.bets.record(bet, "fp1", [C]) is False  # same id: nothing written twice
    stored = adapters.bets.get("B-1")
    assert stored is not None and stored.fingerprint == "fp1" and stored.bet == bet
    profile = adapters.subjects.profile(C)
    assert profile is not None and (profile.bets_total, profile.stake_total_minor) == (1, 1250)
    window = adapters.subjects.bets_between(C, NOW - timedelta(minutes=1), NOW)
    assert [(b.bet_id, b.stake_minor, b.shop_id) for b in window] == [("B-1", 1250, "S01")]
    assert adapters.subjects.bets_between(C, NOW + timedelta(seconds=1), NOW + timedelta(hours=1)) == []
    recorded = bet.received_at
    assert adapters.activity.active_between(recorded - timedelta(seconds=1), recorded) == {C}
    later = recorded + timedelta(microseconds=1)
    assert adapters.activity.active_between(later, later + timedelta(hours=1)) == set()
    assert adapters.bets.get("missing") is None and adapters.subjects.profile(SubjectRef.customer("x")) is None


def test_slip_states_move_once(adapters: wiring.Adapters) -> None:
    slips = adapters.slips
    assert slips.reserve_upload("B-1", "slips/B-1/a", NOW)
    assert slips.reserve_upload("B-1", "slips/B-1/b", NOW)  # a pending upload may be replaced
    # The upload through the first presigned POST still works: the first object processed is the slip.
    assert slips.mark_embedded("B-1", "slips/B-1/a", [0.1] * 8, "m", "etag", NOW)
    assert not slips.mark_embedded("B-1", "slips/B-1/b", [0.1] * 8, "m", None, NOW)  # not awaiting any more
    assert not slips.mark_rejected("B-1", "slips/B-1/a", "late", None, NOW)
    assert not slips.reserve_upload("B-1", "slips/B-1/c", NOW)  # embedded is final
    rec = slips.get("B-1")
    assert rec is not None and rec.status == "embedded" and rec.model_version == "m" and rec.reason is None
    msg = slips.clustering_message("B-1")
    assert msg is not None and msg.object_key == "slips/B-1/a" and msg.embedding == pytest.approx([0.1] * 8)
    assert slips.reserve_upload("B-2", "slips/B-2/a", NOW) and slips.mark_rejected(
        "B-2", "slips/B-2/a", "bad", None, NOW
    )
    assert slips.get("B-2").reason == "bad" and slips.reserve_upload("B-2", "slips/B-2/b", NOW)  # retry allowed


E1 = [1.0] + [0.0] * 47  # a 48-dimension embedding


def test_writer_assignment_and_its_conditional_write(adapters: wiring.Adapters) -> None:
    from chalicelib.domain import writer_linking as wl

    bet = make_bet(adapters, bet_id="B-7", customer_id="C7")
    adapters.bets.record(bet, "fp", [SubjectRef.customer("C7")])
    adapters.slips.reserve_upload("B-7", "slips/B-7/a", NOW)
    adapters.slips.mark_embedded("B-7", "slips/B-7/a", E1, "m", None, NOW)
    msg = adapters.slips.clustering_message("B-7")
    assert msg is not None
    state = WriterState(wl.new_writer("w-1", E1))
    stale = SlipAssignment(msg, bet, WriterState(replace(state.link, version=3)), expected_version=2, similarity=0.9)
    with pytest.raises(StaleWrite):
        adapters.writers.assign(stale, NOW)  # no such writer at version 2
    assert _scan_count("subjects") == 2  # nothing of it was written (only the customer's bet item and profile)
    decision = wl.LinkDecision("new", None, float("-inf"), float("-inf"), "new: empty gallery")
    adapters.writers.assign(SlipAssignment(msg, bet, state, 0, 1.0, decision), NOW)
    with pytest.raises(StaleWrite):
        adapters.writers.assign(SlipAssignment(msg, bet, state, 0, 1.0, decision), NOW)  # redelivery
    w = adapters.writers.writer("w-1")
    assert w is not None and w.n == 1 and w.version == 1 and list(w.link.mean) == pytest.approx(E1)
    assert [d.writer_id for d in adapters.writers.deltas_since(NOW - timedelta(seconds=1))] == ["w-1"]
    writer = SubjectRef.writer("w-1")
    assert adapters.subjects.links(writer) == [SubjectRef.customer("C7")]
    assert adapters.subjects.links(SubjectRef.customer("C7")) == [writer]
    assert adapters.subjects.slips(writer) == ["B-7"] and adapters.subjects.slips(SubjectRef.customer("C7")) == ["B-7"]
    assert adapters.subjects.bets_between(writer, NOW - timedelta(hours=1), NOW)[0].has_slip is True
    slip = adapters.slips.get("B-7")
    assert slip is not None and slip.writer_id == "w-1" and slip.link == {
        "action": "new", "score": None, "similarity": None, "reason": "new: empty gallery",
        "candidate_of": None, "candidates": [],
    }  # fmt: skip


def test_candidate_links_are_recorded_and_decided_once(adapters: wiring.Adapters) -> None:
    from chalicelib.domain import writer_linking as wl

    bet = make_bet(adapters, bet_id="B-8")
    adapters.bets.record(bet, "fp", [])
    adapters.slips.reserve_upload("B-8", "slips/B-8/a", NOW)
    adapters.slips.mark_embedded("B-8", "slips/B-8/a", E1, "m", None, NOW)
    msg = adapters.slips.clustering_message("B-8")
    assert msg is not None
    d = wl.LinkDecision("candidate", "w-old", 0.9, 0.62, "candidate: z 0.90", (("w-old", 0.9),))
    adapters.writers.assign(SlipAssignment(msg, bet, WriterState(wl.new_writer("w-new", E1)), 0, 1.0, d), NOW)
    [c] = adapters.writers.candidates("w-new")
    assert (c.other, c.bet_id, c.status, c.score) == ("w-old", "B-8", "pending", 0.9)
    assert [x.other for x in adapters.writers.candidates("w-old")] == ["w-new"]
    assert adapters.slips.get("B-8").link["candidate_of"] == "w-old"  # type: ignore[index,union-attr]
    assert not adapters.writers.rejected("w-new", "w-old")
    assert adapters.writers.decide_candidate("w-old", "w-new", "rejected", "user:a", NOW)
    assert not adapters.writers.decide_candidate("w-old", "w-new", "confirmed", "user:a", NOW)  # decided already
    assert adapters.writers.rejected("w-new", "w-old") and adapters.writers.rejected("w-old", "w-new")
    adapters.writers.keep_apart("w-x", "w-y", "user:a", "split", NOW)
    assert adapters.writers.rejected("w-y", "w-x")


def _alert(alert_id: str, at: datetime, subject: SubjectRef = C) -> Alert:
    return Alert(
        alert_id=alert_id,
        rule_id="stake_window_customer",
        subject=subject,
        severity="high",
        title="t",
        detail="d",
        metric=Metric(name="stake_total", value=60_000, threshold=50_000, unit="minor_units"),
        raised_at=at,
    )


def test_alerts_once_per_cooldown_then_published_from_the_outbox(adapters: wiring.Adapters) -> None:
    store = adapters.alerts
    cd = timedelta(hours=24)
    assert store.create(_alert("al-1", NOW), cd) is True
    assert store.create(_alert("al-1", NOW), cd) is False  # the same evaluation retried
    assert store.create(_alert("al-2", NOW + timedelta(hours=23)), cd) is False  # within the cooldown
    assert store.create(_alert("al-3", NOW + timedelta(hours=24)), cd) is True  # one cooldown later
    assert store.create(_alert("al-4", NOW, SubjectRef.customer("other")), cd) is True
    got = store.get("al-1")
    assert got is not None and got.metric.value == 60_000 and got.subject == C
    assert store.get("al-2") is None
    recent = store.recent(NOW - timedelta(days=1), NOW + timedelta(days=2), 10)
    assert recent[0].alert_id == "al-3" and len(recent) == 3
    assert {a.alert_id for a in store.pending(10)} == {"al-1", "al-3", "al-4"}
    store.mark_published("al-1", NOW, "msg-1")
    assert {a.alert_id for a in store.pending(10)} == {"al-3", "al-4"}
    published = store.get("al-1")
    assert published.published_at is not None and [e.action for e in published.events] == ["published"]


def test_principals(adapters: wiring.Adapters) -> None:
    p = adapters.principals
    p.add_api_key(ApiKeyRecord("d" * 64, "dddd", "till", "ingest", "now"))
    assert p.api_key("d" * 64).name == "till" and p.api_key("e" * 64) is None
    user = UserRecord("alice", "staff", "00", "11", "now")
    assert p.add_user(user) is True and p.add_user(user) is False
    assert p.user("alice") == user and p.user("bob") is None


def test_health_probe(adapters: wiring.Adapters) -> None:
    assert adapters.health.unreachable() == {}
    aws.client("dynamodb").delete_table(TableName=config.settings().table("slips"))
    assert adapters.health.unreachable() == {"slips": "ResourceNotFoundException"}


def test_alert_search_filters_pages_and_conditional_updates(adapters: wiring.Adapters) -> None:
    from chalicelib.domain.alerts import AlertStatus, transition
    from chalicelib.ports import AlertQuery

    store = adapters.alerts
    cd = timedelta(hours=1)
    for i in range(5):
        a = _alert(f"al-{i}", NOW - timedelta(days=i), SubjectRef.customer(f"K{i}"))
        a.severity = "critical" if i == 2 else "high"
        assert store.create(a, cd)
    shadow = _alert("al-shadow", NOW, SubjectRef.customer("S"))
    shadow.shadow = True
    assert store.create(shadow, cd) and "al-shadow" not in {a.alert_id for a in store.pending(10)}
    seen, cursor = [], None
    for _ in range(10):
        page, cursor = store.search(AlertQuery(since=NOW - timedelta(days=10), until=NOW), 2, cursor)
        seen += [a.alert_id for a in page]
        if cursor is None:
            break
    assert seen == [f"al-{i}" for i in range(5)]  # newest first, each once, across day partitions
    assert [a.alert_id for a in store.search(AlertQuery(severity="critical"), 10, None)[0]] == ["al-2"]
    assert [a.alert_id for a in store.search(AlertQuery(shadow=True), 10, None)[0]] == ["al-shadow"]
    k3 = store.search(AlertQuery(subject=SubjectRef.customer("K3"), since=NOW - timedelta(days=10)), 10, None)[0]
    assert [a.alert_id for a in k3] == ["al-3"]
    current = store.get("al-0")
    assert current is not None
    acked = transition(current, "acknowledged", "user:a", NOW, assignee="bob")
    assert store.update(acked, expected=AlertStatus.open) is True
    assert store.update(acked, expected=AlertStatus.open) is False  # the second of two concurrent ones
    assert [a.alert_id for a in store.search(AlertQuery(assignee="bob"), 10, None)[0]] == ["al-0"]
    assert [a.alert_id for a in store.search(AlertQuery(status=AlertStatus.acknowledged), 10, None)[0]] == ["al-0"]
    assert "al-0" not in {a.alert_id for a in store.search(AlertQuery(status=AlertStatus.open), 10, None)[0]}
    # The menu's count: one Query of the by_status index, shadow hits apart, no further than the limit.
    calls: list[str] = []
    store.db.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    assert store.count(AlertStatus.open, 100) == 4 and store.count(AlertStatus.acknowledged, 100) == 1
    assert store.count(AlertStatus.open, 3) == 3 and store.count(AlertStatus.resolved, 100) == 0
    assert calls == ["Query"] * 4


def test_snoozes_block_new_alerts_until_they_end(adapters: wiring.Adapters) -> None:
    store = adapters.alerts
    subject = SubjectRef.customer("Z")
    store.snooze("stake_window_customer", subject, NOW + timedelta(hours=2), "user:a")
    assert store.create(_alert("al-z1", NOW + timedelta(hours=1), subject), timedelta(minutes=1)) is False
    assert store.create(_alert("al-z2", NOW + timedelta(hours=2), subject), timedelta(minutes=1)) is True
    assert store.snoozed_until("stake_window_customer", subject) == NOW + timedelta(hours=2)


def test_rule_store_versions_and_audit(adapters: wiring.Adapters) -> None:
    from chalicelib.domain.audit import AuditEvent
    from chalicelib.domain.rules import default_rules

    rules = adapters.rules
    [r1, *_] = default_rules()
    ev = AuditEvent(at=NOW, actor="system", action="seeded", entity="rule:x")
    assert rules.save(r1, None, ev) and not rules.save(r1, None, ev)
    r2 = r1.model_copy(update={"version": 2, "name": "changed"})
    assert not rules.save(r2, 5, ev)  # not the current version
    assert rules.save(r2, 1, ev)
    r2off = r2.model_copy(update={"enabled": False})
    assert rules.save(r2off, 2, ev)  # same version, enabled flag only
    assert [r.version for r in rules.versions(r1.rule_id)] == [1, 2]
    assert rules.get(r1.rule_id) == r2off and [r.rule_id for r in rules.catalogue()] == [r1.rule_id]
    assert not rules.remove(r1.rule_id, 1, ev) and rules.remove(r1.rule_id, 2, ev)
    assert rules.catalogue() == [] and len(rules.audit(r1.rule_id)) == 4  # refused changes leave none


def _assigned(adapters: wiring.Adapters, bet_id: str, writer_id: str, previous_n: int, customer: str | None) -> Bet:
    bet = make_bet(adapters, bet_id=bet_id, customer_id=customer)
    adapters.bets.record(bet, "fp", [SubjectRef.customer(customer)] if customer else [])
    adapters.slips.reserve_upload(bet_id, f"slips/{bet_id}/a", NOW)
    adapters.slips.mark_embedded(bet_id, f"slips/{bet_id}/a", E1, "m", None, NOW)
    msg = adapters.slips.clustering_message(bet_id)
    assert msg is not None
    from chalicelib.domain import writer_linking as wl

    current = adapters.writers.writer(writer_id)
    if current is None:
        state = WriterState(wl.new_writer(writer_id, E1))
    else:
        state = replace(current, link=wl.add_slip(current.link, E1, wl.LinkSettings.load()))
    expected = current.version if current else 0
    adapters.writers.assign(SlipAssignment(msg, bet, state, expected, 0.9), NOW)
    return bet


def test_writer_admin_tags_copies_and_moves_idempotently(adapters: wiring.Adapters) -> None:
    from chalicelib.adapters.dynamodb.subjects import window_bet  # noqa: F401 - the item shape under test
    from chalicelib.domain.rules import window_bet_of
    from chalicelib.domain.writers import JobKind, WriterJob

    w = adapters.writers
    b1 = _assigned(adapters, "B-1", "w-1", 0, None)
    _assigned(adapters, "B-2", "w-1", 1, "C2")
    _assigned(adapters, "B-3", "w-2", 0, None)
    writer1, cust = SubjectRef.writer("w-1"), SubjectRef.customer("C9")
    assert w.tag("w-1", "C9", "user:a", NOW) and not w.tag("w-1", "C9", "user:a", NOW)
    assert w.writer("w-1").tagged == ("C9",)  # type: ignore[union-attr]
    assert cust in adapters.subjects.links(writer1)
    assert w.copy_bet("w-1", window_bet_of(b1), "C9", NOW) and not w.copy_bet("w-1", window_bet_of(b1), "C9", NOW)
    assert adapters.subjects.profile(cust).bets_total == 1  # type: ignore[union-attr]
    # A new slip of a tagged writer counts for the customer in the assignment itself.
    _assigned(adapters, "B-4", "w-1", 2, None)
    assert adapters.subjects.profile(cust).bets_total == 2  # type: ignore[union-attr]
    assert w.uncopy_bet("w-1", window_bet_of(b1), "C9", NOW) and not w.uncopy_bet("w-1", window_bet_of(b1), "C9", NOW)
    assert w.untag("w-1", "C9") and not w.untag("w-1", "C9")
    assert cust not in adapters.subjects.links(writer1) and SubjectRef.customer("C2") in adapters.subjects.links(
        writer1
    )
    # Moving a slip: once.
    assert w.move_slip("B-2", "w-1", "w-2", NOW) and not w.move_slip("B-2", "w-1", "w-2", NOW)
    assert adapters.slips.get("B-2").writer_id == "w-2"  # type: ignore[union-attr]
    assert sorted(adapters.subjects.slips(SubjectRef.writer("w-2"))) == ["B-2", "B-3"]
    assert adapters.subjects.profile(writer1).bets_total == 2  # type: ignore[union-attr]
    assert SubjectRef.writer("w-2") in adapters.subjects.links(SubjectRef.customer("C2"))
    assert adapters.subjects.slips(SubjectRef.customer("C2")) == ["B-2"]
    w.retire("w-1", "w-2", NOW)
    assert w.writer("w-1") is None and w.writer("w-2") is not None
    tomb = [d for d in w.deltas_since(NOW - timedelta(seconds=1)) if d.writer_id == "w-1" and d.n == 0]
    assert len(tomb) == 1  # cached indexes drop the retired writer
    job = WriterJob(
        job_id="job-1", kind=JobKind.merge, source="a", target="b", bet_ids=["x"], actor="u", created_at=NOW
    )
    assert w.save_job(job, None) and not w.save_job(job, None)
    assert w.save_job(job.model_copy(update={"moved": 1}), 0) and not w.save_job(job, 0)
    assert w.job("job-1").moved == 1 and w.embedding("B-3") == pytest.approx(E1)  # type: ignore[union-attr]


def test_no_skew_between_training_and_the_stored_history(adapters: wiring.Adapters) -> None:
    """The history the bet path reads back from DynamoDB gives the same feature vector as the one
    training builds from the same bets."""
    import numpy as np

    from chalicelib.domain.risk_history import SubjectHistory
    from chalicelib.risk.features import past_bet, vectorize

    class Capture:
        def __init__(self) -> None:
            self.histories: list[SubjectHistory] = []

        def assess(self, bet: BetIn, history: SubjectHistory) -> Any:
            from chalicelib.adapters.memory import FixedScorer

            self.histories.append(history)
            return FixedScorer().assess(bet, history)

        def ready(self) -> bool:
            return True

    scorer = Capture()
    rec = BetRecorder(adapters.bets, adapters.subjects, scorer, "GBP")
    bodies = [
        BetIn.model_validate(
            bet_body(
                bet_id=f"SK-{i}",
                stake=stake,
                channel="online" if i % 2 else "retail",
                shop_id=None if i % 2 else "S07",
                device_id="dev-1" if i % 2 else None,
                location={"lat": 51.5, "lon": -0.12} if i == 3 else None,
                selections=[{"event": f"1{i}:30 Ascot", "market": "win", "selection": f"Horse {i}", "price": p}],
                placed_at=(NOW - timedelta(hours=30 - i)).isoformat(),
            )
        )
        for i, (stake, p) in enumerate(
            [("5.00", "5/2"), ("7.50", "SP"), ("12.00", 1.5), ("3.00", "evs"), ("400.00", "9/1")]
        )
    ]
    for b in bodies:
        rec.record(b, "key:till")
    served = scorer.histories[-1]
    trained = SubjectHistory.of([past_bet(b) for b in bodies[:-1]], bodies[-1].placed_at)
    assert len(served.bets) == 4
    assert np.array_equal(vectorize(bodies[-1], served), vectorize(bodies[-1], trained))

    # An import chunk's cache (services/history_cache.py) holds a just-recorded bet as DynamoDB
    # returns it, and a read with no end returns the bets placed after `end` too.
    from chalicelib.domain.rules import stored_window_bet

    customer = SubjectRef.customer(str(bodies[0].customer_id))
    read, _ = adapters.subjects.recent(customer, NOW - timedelta(days=30), None)
    stored = {b.bet_id: b for b in read}
    assert set(stored) == {b.bet_id for b in bodies}
    assert adapters.subjects.recent(customer, NOW - timedelta(days=30), NOW - timedelta(hours=29))[0] == read[:2]
    for b in bodies:
        found = adapters.bets.get(str(b.bet_id))
        assert found is not None and stored_window_bet(found.bet) == stored[str(b.bet_id)]


def test_feed_pages_across_shards_and_hours_each_row_once(adapters: wiring.Adapters) -> None:
    from chalicelib.domain.feed import FeedFilter

    start = NOW - timedelta(hours=2)
    ids = []
    for i in range(30):
        bet = make_bet(adapters, bet_id=f"FD-{i:02d}", stake=f"{i + 1}.00", customer_id=f"K{i % 4}")
        bet = bet.model_copy(update={"received_at": start + timedelta(minutes=4 * i)})  # two hours of bets
        assert adapters.bets.record(bet, "fp", [])
        ids.append(bet.bet_id)
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        rows, cursor = adapters.feed.page(
            start - timedelta(minutes=1), NOW + timedelta(hours=1), cursor, 7, FeedFilter()
        )
        seen += [r.record_id for r in rows]
        if cursor is None:
            break
    assert seen == ids[::-1]  # newest first, each once, across 8 shards and 2 hours
    big = adapters.feed.page(start, NOW + timedelta(hours=1), None, 50, FeedFilter(min_stake_minor=2500))[0]
    assert [r.record_id for r in big] == ["FD-29", "FD-28", "FD-27", "FD-26", "FD-25", "FD-24"]
    k1 = adapters.feed.page(start, NOW + timedelta(hours=1), None, 50, FeedFilter(customer_id="K1"))[0]
    assert {r.customer_id for r in k1} == {"K1"} and len(k1) == 8
    oldest = adapters.feed.page(start, NOW + timedelta(hours=1), None, 50, FeedFilter())[0][-1]
    newer = adapters.feed.newer(oldest.cursor, NOW + timedelta(hours=1), 5, FeedFilter())
    assert [r.record_id for r in newer] == ids[1:6]
