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


def unit(*v: float) -> list[float]:
    a = np.asarray(v, np.float64)
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
    c.clusterer().assign(m)
    with pytest.raises(StaleSlip):
        c.clusterer().assign(m)
    writers = c.adapters.writers.writers()
    assert len(writers) == 1 and writers[0].n == 1


def test_a_superseded_upload_is_stale(c: wiring.Container) -> None:
    a = embedded(c, unit(1, 0, 0, 0))
    old = msg(c, a)
    with pytest.raises(StaleSlip):
        c.clusterer().assign(old.model_copy(update={"object_key": "slips/x/other"}))
