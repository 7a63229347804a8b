"""Clustering on in-memory stores: a slip joins a writer once, near slips share a writer, the
writer counts the bet and is linked to the bet's customer, a redelivery changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from chalicelib import wiring
from chalicelib.core import config
from chalicelib.domain.bets import BetIn
from chalicelib.domain.slips import ClusteringMessage
from chalicelib.domain.subjects import SubjectRef
from chalicelib.services.clustering import StaleSlip
from tests.helpers import bet_body

NOW = datetime.now(UTC)


@pytest.fixture
def c() -> wiring.Container:
    return wiring.in_memory(config.from_env({}))


def embedded(c: wiring.Container, vec: list[float], customer: str | None = None, stake: str = "10.00") -> str:
    b = BetIn.model_validate(
        bet_body(customer_id=customer, stake=stake, placed_at=(NOW - timedelta(hours=1)).isoformat())
    )
    bet_id = c.recorder.record(b, "k")[0].bet_id
    key = c.uploads.start(bet_id, "image/jpeg")["object_key"]
    assert c.adapters.slips.mark_embedded(bet_id, key, vec, "test-model", None, NOW)
    return bet_id


def msg(c: wiring.Container, bet_id: str) -> ClusteringMessage:
    m = c.adapters.slips.clustering_message(bet_id)
    assert m is not None
    return m


DIM = 48  # the embedding's dimension (chalicelib/models/writer_linking.json)


def unit(*v: float) -> list[float]:
    a = np.zeros(DIM)
    a[: len(v)] = v
    return list(a / np.linalg.norm(a))


def test_near_slips_share_a_writer_far_ones_do_not(c: wiring.Container) -> None:
    cl = c.clusterer()
    a = embedded(c, unit(1, 0, 0, 0), customer="C7", stake="5.00")
    b = embedded(c, unit(0.99, 0.05, 0, 0))
    z = embedded(c, unit(0, 0, 1, 0))
    wa, new_a = cl.assign(msg(c, a))
    wb, new_b = cl.assign(msg(c, b))
    wz, new_z = cl.assign(msg(c, z))
    assert new_a and not new_b and new_z and wa == wb != wz
    assert c.uploads.status(b).status == "clustered" and c.uploads.status(b).similarity > 0.9
    summary = c.profiles.summary(SubjectRef.writer(wa))
    assert summary.profile.bets_total == 2 and summary.profile.stake_total_minor == 1500
    assert summary.linked == [SubjectRef.customer("C7")] and summary.slips == sorted([a, b])
    # The customer's profile lists the slip and the writer too.
    cust = c.profiles.summary(SubjectRef.customer("C7"))
    assert cust.slips == [a] and cust.linked == [SubjectRef.writer(wa)]


def test_a_redelivered_message_changes_nothing(c: wiring.Container) -> None:
    a = embedded(c, unit(1, 0, 0, 0))
    m = msg(c, a)
    writer_id, _ = c.clusterer().assign(m)
    with pytest.raises(StaleSlip):
        c.clusterer().assign(m)
    state = c.adapters.writers.writer(writer_id)
    assert state is not None and state.n == 1 and len(c.writer_index.refresh()) == 1


def test_a_superseded_upload_is_stale(c: wiring.Container) -> None:
    a = embedded(c, unit(1, 0, 0, 0))
    old = msg(c, a)
    with pytest.raises(StaleSlip):
        c.clusterer().assign(old.model_copy(update={"object_key": "slips/x/other"}))


def test_a_borderline_slip_is_a_candidate_link_not_a_merge(c: wiring.Container) -> None:
    rng = np.random.default_rng(5)
    base = np.zeros(DIM)
    base[0] = 1.0
    # A few clearly different writers give the gallery its own statistics.
    for k in range(1, 6):
        for _ in range(2):
            v = np.zeros(DIM)
            v[k] = 1.0
            embedded_and_linked = embedded(c, list(v + rng.normal(0, 0.02, DIM)))
            c.clusterer().assign(msg(c, embedded_and_linked))
    first = embedded(c, list(base))
    w0, _ = c.clusterer().assign(msg(c, first))
    # Find a slip the linker calls borderline against this gallery (between w0 and a fresh direction).
    from chalicelib.domain import writer_linking as wl

    index = c.writer_index.refresh()
    chosen = None
    for t in np.linspace(0.0, 1.0, 101):
        v = base * (1 - t) + np.eye(DIM)[40] * t
        d = wl.decide(v / np.linalg.norm(v), index, c.linking)
        if d.action == "candidate" and d.writer_id == w0:
            chosen = v / np.linalg.norm(v)
            break
    assert chosen is not None, "no borderline point between a writer and a new direction"
    b = embedded(c, list(chosen))
    c.clusterer().assign(msg(c, b))
    status = c.uploads.status(b)
    link = status.link or {}
    assert link["action"] == "candidate" and status.writer_id != w0 and link["candidate_of"] == w0
    [cand] = c.writers.candidates(status.writer_id or "")
    assert cand.other == w0 and cand.status == "pending" and cand.reason
    assert [x.other for x in c.writers.candidates(w0)] == [status.writer_id]
