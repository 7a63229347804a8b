"""writer_linking: decisions, candidates, anchors, merges, re-checks, persisted state (numpy only)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from chalicelib.domain import writer_linking as wl
from chalicelib.domain.writer_index import WriterIndex

S = wl.LinkSettings.load()
DIM = 16


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _people(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([_unit(rng.normal(size=DIM)) for _ in range(n)])


def _slips(centre: np.ndarray, k: int, rng: np.random.Generator, noise: float = 0.12) -> list[np.ndarray]:
    return [_unit(centre + rng.normal(0, noise, DIM)) for _ in range(k)]


def _writer(wid: str, slips: list[np.ndarray]) -> wl.WriterState:
    st = wl.new_writer(wid, slips[0])
    for e in slips[1:]:
        st = wl.add_slip(st, e, S)
    return st


def test_empty_gallery_makes_a_new_writer() -> None:
    d = wl.decide(_people(1)[0], [], S)
    assert d.action == "new" and d.writer_id is None and "empty" in d.reason


def test_strong_match_joins_weak_is_new_and_the_band_between_is_a_candidate() -> None:
    rng = np.random.default_rng(1)
    a, b, c = _people(3)
    gallery = [_writer("wa", _slips(a, 4, rng)), _writer("wb", _slips(b, 3, rng))]
    join = wl.decide(_slips(a, 1, rng)[0], gallery, S)
    assert join.action == "join" and join.writer_id == "wa" and join.score >= S.join_z
    assert "join" in join.reason and "wa" in join.reason and join.candidates[0][0] == "wa"
    new = wl.decide(c, gallery, S)
    assert new.action == "new" and new.writer_id is None and new.score < S.candidate_z
    # Between the two bars: linked for review only, never joined.
    loose = replace(S, join_z=join.score + 1.0, candidate_z=join.score - 0.5)
    cand = wl.decide(_slips(a, 1, np.random.default_rng(1))[0], gallery, loose)
    assert cand.action == "candidate" and cand.writer_id == "wa" and "not joined" in cand.reason


def test_an_empty_gallery_decides_with_the_pessimistic_prior() -> None:
    # One writer and a slip at similarity 0.6: the gallery says nothing yet, the prior says "unsure".
    a = np.zeros(DIM)
    a[0] = 1.0
    e = np.zeros(DIM)
    e[0], e[1] = 0.6, 0.8
    d = wl.decide(e, [wl.new_writer("wa", a)], S)
    assert d.action != "join"


def test_the_anchor_stops_a_drifted_writer_from_taking_another_person() -> None:
    rng = np.random.default_rng(2)
    a, b, _ = _people(3, seed=5)
    st = _writer("wa", _slips(a, 3, rng))
    drifted = replace(st, mean=_unit(b) * 0.9)  # as if later slips had pulled the mean onto b
    d = wl.decide(_slips(b, 1, rng)[0], [drifted, _writer("wc", _slips(_people(1, 9)[0], 2, rng))], S)
    assert d.action != "join" and "anchor" in d.reason


def test_add_slip_keeps_a_running_mean_and_freezes_the_anchor() -> None:
    rng = np.random.default_rng(3)
    slips = _slips(_people(1)[0], S.max_anchor + 3, rng)
    st = _writer("w", slips)
    assert st.n == len(slips) and st.version == len(slips)
    assert np.allclose(st.mean, np.mean(slips, axis=0))
    assert st.n_anchor == S.max_anchor and len(st.exemplars) == S.max_anchor
    assert np.allclose(st.anchor, np.mean(slips[: S.max_anchor], axis=0))


def test_state_round_trips_through_plain_items() -> None:
    st = _writer("w", _slips(_people(1)[0], 3, np.random.default_rng(4)))
    item = st.to_item()
    assert all(isinstance(x, float) for x in item["mean"]) and isinstance(item["exemplars"][0], list)
    back = wl.WriterState.from_item(item)
    assert back.writer_id == "w" and back.n == 3 and back.version == st.version
    assert np.allclose(back.mean, st.mean) and np.allclose(back.exemplars, st.exemplars)


def test_recheck_flags_the_slip_that_is_someone_else() -> None:
    rng = np.random.default_rng(5)
    a, b = _people(2, seed=6)
    r = wl.recheck([*_slips(a, 5, rng), b], S)
    assert r.outliers == (5,) and len(r.member_z) == 6
    assert wl.recheck(_slips(a, 2, rng), S).outliers == ()


def test_merge_check_joins_two_halves_of_one_person_only() -> None:
    rng = np.random.default_rng(6)
    people = _people(4, seed=7)
    idx = WriterIndex(DIM)
    states = [_writer("a1", _slips(people[0], 3, rng)), _writer("a2", _slips(people[0], 3, rng))]
    states += [_writer(f"o{i}", _slips(p, 3, rng)) for i, p in enumerate(people[1:])]
    idx.apply(s.delta() for s in states)
    m = wl.merge_check(states[0], idx, S)
    assert m is not None and {m.kept, m.absorbed} == {"a1", "a2"} and "merge" in m.reason
    assert wl.merge_check(states[2], idx, S) is None
    kept = wl.merged(states[0], states[1], S)
    assert kept.n == 6 and kept.version == states[0].version + 1


def test_big_galleries_need_more_evidence() -> None:
    assert wl.size_penalty(5, S) == 0.0 and wl.size_penalty(S.calibrated_writers, S) == 0.0
    assert 2.0 < wl.size_penalty(100_000, S) < 3.0


def test_link_batch_finds_the_people_and_resolves_merges() -> None:
    rng = np.random.default_rng(7)
    people = _people(4, seed=8)
    labels = [i for i in range(4) for _ in range(5)]
    slips = [_slips(people[i], 1, rng)[0] for i in labels]
    order = rng.permutation(len(slips))
    counter = itertools.count()
    idx, states, merges = WriterIndex(DIM), {}, []  # type: ignore[var-annotated]
    out = wl.link_batch([slips[i] for i in order], idx, lambda: f"w{next(counter)}", S, states, merges)
    found: dict[int, set[str]] = {}
    for i, (wid, _) in zip(order, out, strict=True):
        found.setdefault(labels[i], set()).add(wl.resolve(wid, merges))
    owners = [w for ws in found.values() for w in ws]
    assert len(owners) == len(set(owners))  # no writer holds two people
    assert len(idx) == len(states)
