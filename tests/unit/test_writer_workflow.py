"""The writer workflow through the API (in-memory stores): tag a writer to a customer (its bets
count there, rules re-evaluated once, no duplicate alerts), untag (reversed), merge a writer of 150
slips as a job, split slips off, every action audited; clustering never undoes a staff decision."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from chalicelib import wiring
from chalicelib.adapters import memory
from chalicelib.domain.bets import BetIn
from chalicelib.domain.subjects import SubjectRef
from tests.helpers import Api, bet_body

NOW = datetime.now(UTC)


def post(api: Api, path: str, body: Any) -> Any:
    return api.c.http.post(path, body=json.dumps(body), headers={**api.staff(), "content-type": "application/json"})


def slip_of(services: wiring.Container, vec: list[float], stake: str = "10.00", customer: str | None = None,
            ago: timedelta = timedelta(hours=1)) -> tuple[str, str]:  # fmt: skip
    body = BetIn.model_validate(bet_body(customer_id=customer, stake=stake, placed_at=(NOW - ago).isoformat()))
    bet_id = services.recorder.record(body, "k")[0].bet_id
    key = services.uploads.start(bet_id, "image/jpeg")["object_key"]
    services.adapters.slips.mark_embedded(bet_id, key, vec, "m", None, NOW)
    msg = services.adapters.slips.clustering_message(bet_id)
    assert msg is not None
    writer_id, _ = services.clusterer().assign(msg)
    return bet_id, writer_id


def hand(seed: int, n: int = 48) -> list[float]:
    v = np.zeros(n)
    v[seed % n] = 1.0
    return list(v)


def near(base: list[float], rng: np.random.Generator) -> list[float]:
    v = np.asarray(base) + rng.normal(0, 0.01, len(base))
    return list(v / np.linalg.norm(v))


def drain_jobs(services: wiring.Container) -> int:
    queue = services.adapters.queue
    assert isinstance(queue, memory.MemoryQueue)
    steps = 0
    while queue.messages["writer-jobs"]:
        services.writers.run(json.loads(queue.messages["writer-jobs"].pop(0))["job_id"])
        steps += 1
    return steps


def test_tagging_counts_the_writers_bets_for_the_customer_once(api: Api, services: wiring.Container) -> None:
    _, w = slip_of(services, hand(1), stake="300.00", ago=timedelta(hours=3))
    slip_of(services, hand(1), stake="250.00", ago=timedelta(hours=2))
    assert api.post("/bets", bet_body(customer_id="C5", stake="20.00")).status_code == 201
    services.monitor.run(NOW)  # the writer's own stake alert
    r = post(api, f"/writers/{w}/tags", {"customer_id": "C5"})
    assert r.status_code == 200 and r.json_body == {
        "writer_id": w, "customer_id": "C5", "tagged": True, "bets_copied": 2, "bets_removed": 0,
    }  # fmt: skip
    cust = api.get("/customers/C5").json_body
    assert cust["windows"]["24h"] == {"bets": 3, "stake_minor": 57_000} and w in cust["linked"]
    assert post(api, f"/writers/{w}/tags", {"customer_id": "C5"}).json_body["bets_copied"] == 0  # idempotent
    # The customer's rules are evaluated again once: one customer alert, then no duplicate.
    later = datetime.now(UTC)  # not in the future: the listing reads up to now
    services.monitor.run(later)
    alerts = api.get("/alerts?subject_kind=customer&subject_id=C5").json_body["alerts"]
    assert [a["rule_id"] for a in alerts] == ["stake_window_customer"]
    services.monitor.run(later + timedelta(minutes=5))
    assert len(api.get("/alerts?subject_kind=customer&subject_id=C5").json_body["alerts"]) == 1
    # A later slip of the writer counts for the tagged customer as it is clustered.
    slip_of(services, hand(1), stake="5.00", ago=timedelta(minutes=30))
    assert api.get("/customers/C5").json_body["windows"]["24h"]["bets"] == 4
    # Untag: reversed.
    r = api.c.http.delete(f"/writers/{w}/tags/C5", headers=api.staff())
    assert r.status_code == 200 and r.json_body["bets_removed"] == 3
    assert api.get("/customers/C5").json_body["windows"]["24h"] == {"bets": 1, "stake_minor": 2_000}
    assert w not in api.get("/customers/C5").json_body["linked"]
    assert api.c.http.delete(f"/writers/{w}/tags/C5", headers=api.staff()).status_code == 404
    actions = [e["action"] for e in api.get(f"/writers/{w}/audit").json_body["events"]]
    assert actions == ["tagged", "untagged"]
    assert post(api, "/writers/w-nobody/tags", {"customer_id": "C5"}).status_code == 404


def test_merging_a_writer_of_150_slips_is_a_job(api: Api, services: wiring.Container) -> None:
    rng = np.random.default_rng(7)
    big = [slip_of(services, near(hand(2), rng), stake="1.00", ago=timedelta(minutes=200 - i)) for i in range(150)]
    source = {w for _, w in big}
    assert len(source) == 1
    (source_id,) = source
    target_bet, target_id = slip_of(services, hand(5), stake="2.00", customer="C8")
    r = post(api, f"/writers/{target_id}/merge", {"from_writer_id": source_id, "note": "same person"})
    assert r.status_code == 202 and r.json_body["state"] == "running" and len(r.json_body["bet_ids"]) == 150
    job_id = r.json_body["job_id"]
    steps = drain_jobs(services)
    assert steps == 150 // 25 + 1  # one chunk of 25 slips per message, then the centroids
    job = api.get(f"/jobs/{job_id}").json_body
    assert job["state"] == "done" and job["moved"] == 150
    merged = api.get(f"/writers/{target_id}").json_body
    assert len(merged["slips"]) == 151 and merged["bets_total"] == 151 and merged["stake_total_minor"] == 152_00
    assert api.get(f"/writers/{source_id}").json_body["bets_total"] == 0
    assert services.adapters.writers.writer(source_id) is None  # retired: never matched again
    state = services.adapters.writers.writer(target_id)
    assert state is not None and state.n == 151
    assert all(services.uploads.status(b).writer_id == target_id for b, _ in big)
    # The same job delivered again changes nothing.
    services.writers.run(job_id)
    assert api.get(f"/writers/{target_id}").json_body["bets_total"] == 151
    assert [e["action"] for e in api.get(f"/writers/{source_id}/audit").json_body["events"]] == ["merged"]
    # A new slip like the merged ones now joins the merged writer.
    _, w = slip_of(services, near(hand(2), rng))
    assert w == target_id


def test_split_moves_slips_to_a_new_writer(api: Api, services: wiring.Container) -> None:
    rng = np.random.default_rng(3)
    mine = [slip_of(services, near(hand(3), rng), stake="1.00") for _ in range(4)]
    (writer_id,) = {w for _, w in mine}
    moving = [mine[0][0], mine[1][0]]
    assert post(api, f"/writers/{writer_id}/split", {"bet_ids": ["nope"]}).status_code == 422
    everything = [b for b, _ in mine]
    assert post(api, f"/writers/{writer_id}/split", {"bet_ids": everything}).status_code == 422
    r = post(api, f"/writers/{writer_id}/split", {"bet_ids": moving})
    assert r.status_code == 202
    drain_jobs(services)
    new_id = api.get(f"/jobs/{r.json_body['job_id']}").json_body["target"]
    assert sorted(api.get(f"/writers/{new_id}").json_body["slips"]) == sorted(moving)
    assert len(api.get(f"/writers/{writer_id}").json_body["slips"]) == 2
    assert services.adapters.writers.writer(new_id).n == 2  # type: ignore[union-attr]
    # Reversible: merge them back.
    post(api, f"/writers/{writer_id}/merge", {"from_writer_id": new_id})
    drain_jobs(services)
    assert len(api.get(f"/writers/{writer_id}").json_body["slips"]) == 4
    assert SubjectRef.writer(writer_id).id == writer_id
