"""writer_index: versioned rows, deltas in any order, removal, snapshots, search."""

from __future__ import annotations

import io

import numpy as np
import pytest

from chalicelib.domain.writer_index import WriterDelta, WriterIndex


def _v(*xs: float) -> np.ndarray:
    return np.asarray(xs, np.float32)


def test_rows_only_move_forward_in_version() -> None:
    idx = WriterIndex(2, capacity=1)
    assert idx.upsert("a", _v(1, 0), _v(1, 0), 1, 1)
    assert not idx.upsert("a", _v(0, 1), _v(0, 1), 1, 1)  # a replay
    assert idx.upsert("a", _v(0.5, 0.5), _v(1, 0), 2, 3)
    assert not idx.upsert("a", _v(0, 1), _v(0, 1), 2, 2)  # an older write arriving late
    assert idx.version("a") == 3 and idx.row("a").n == 2
    with pytest.raises(ValueError):
        idx.upsert("b", _v(1, 0, 0), _v(1, 0, 0), 1, 1)


def test_deltas_in_any_order_give_the_same_index() -> None:
    deltas = [WriterDelta(f"w{i % 3}", _v(i, 1), _v(1, 1), i + 1, i + 1, seq=i + 1) for i in range(9)]
    a, b = WriterIndex(2), WriterIndex(2)
    assert a.apply(deltas) == 9
    b.apply(reversed(deltas))
    b.apply(deltas)  # repeats are harmless
    assert sorted(a.writer_ids) == sorted(b.writer_ids) == ["w0", "w1", "w2"]
    for w in a.writer_ids:
        assert a.row(w).version == b.row(w).version and np.allclose(a.row(w).mean, b.row(w).mean)
    assert a.seq == b.seq == 9


def test_removed_writers_do_not_come_back() -> None:
    idx = WriterIndex(2)
    for i, w in enumerate("abc"):
        idx.upsert(w, _v(i, 1), _v(i, 1), 1, 1)
    assert idx.remove("a", 2)
    assert "a" not in idx and len(idx) == 2 and idx.row("c").mean[0] == 2.0
    assert not idx.upsert("a", _v(9, 9), _v(9, 9), 1, 2)
    assert idx.apply([WriterDelta("b", _v(0, 0), _v(0, 0), 0, 5)]) == 1  # n == 0: a tombstone
    assert idx.writer_ids == ["c"]


def test_snapshot_round_trip_and_growth() -> None:
    rng = np.random.default_rng(0)
    idx = WriterIndex(4, capacity=2)
    for i in range(50):
        v = rng.normal(size=4).astype(np.float32)
        idx.upsert(f"w{i}", v, v, i + 1, i + 1)
    idx.seq = 77
    back = WriterIndex.from_bytes(idx.to_bytes())
    assert back.writer_ids == idx.writer_ids and back.seq == 77
    assert np.allclose(back.row("w10").mean, idx.row("w10").mean) and back.row("w10").n == 11
    buf = io.BytesIO()
    np.savez(buf, magic=np.asarray("something else"))
    with pytest.raises(ValueError):
        WriterIndex.from_bytes(buf.getvalue())


def test_search_ranks_and_totals() -> None:
    idx = WriterIndex(2)
    idx.upsert("x", _v(1, 0), _v(1, 0), 3, 1)
    idx.upsert("y", _v(0, 1), _v(0, 1), 2, 1)
    idx.upsert("z", _v(0.6, 0.8), _v(0.6, 0.8), 1, 1)
    (r,) = idx.search(_v(1, 0)[None, :], k=2)
    assert r.writer_ids == ("x", "z") and np.allclose(r.scores, [1.0, 0.6])
    assert r.total_writers == 3 and r.total_n == 6
    assert r.total_ns == pytest.approx(3 * 1.0 + 2 * 0.0 + 1 * 0.6)
    assert r.total_ns2 == pytest.approx(3 * 1.0 + 0.36)
    (empty,) = WriterIndex(2).search(_v(1, 0)[None, :])
    assert empty.writer_ids == () and empty.total_n == 0
