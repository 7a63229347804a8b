"""Open-set writer matching: threshold, new writers, running centroids, batches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from chalicelib import writer_matching as wm


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_threshold_is_loaded_from_the_trained_model() -> None:
    import json
    from pathlib import Path

    meta = json.loads((Path(wm.__file__).parent / "models" / "writer_matching.json").read_text())
    assert wm.THRESHOLD == meta["threshold"] and -1.0 < wm.THRESHOLD < 1.0


def test_match_respects_the_threshold() -> None:
    a, b = _unit(np.array([1.0, 0, 0, 0])), _unit(np.array([0, 1.0, 0, 0]))
    writers = [wm.WriterCentroid("wa", a, 3), wm.WriterCentroid("wb", b, 1)]
    near_a = _unit(np.array([0.95, 0.05, 0.1, 0]))
    assert wm.match(near_a, writers, threshold=0.9)[0] == "wa"
    far = _unit(np.array([0, 0, 1.0, 0.2]))
    who, sim = wm.match(far, writers, threshold=0.5)
    assert who is None and sim < 0.5
    assert wm.match(far, [], threshold=0.5)[0] is None


def test_updated_centroid_is_a_normalised_running_mean() -> None:
    c = wm.WriterCentroid("w", _unit(np.array([1.0, 0, 0])), 1)
    new = wm.updated_centroid(c, _unit(np.array([0, 1.0, 0])))
    assert abs(float(np.linalg.norm(new)) - 1) < 1e-6
    assert np.allclose(new, _unit(np.array([1.0, 1.0, 0])))


def test_batch_creates_then_joins_a_new_writer() -> None:
    counter = itertools.count(1)
    writers: list[wm.WriterCentroid] = []
    x, y = _unit(np.array([1.0, 0.1, 0])), _unit(np.array([0, 0.1, 1.0]))
    out = wm.assign_batch([x, x * 1.0, y, x], writers, new_id=lambda: f"w{next(counter)}", threshold=0.8)
    ids = [o[0] for o in out]
    assert ids[0] == ids[1] == ids[3] and ids[2] != ids[0]
    assert [o[1] for o in out] == [True, False, True, False]
    assert len(writers) == 2


def test_match_without_writers_and_zero_embedding() -> None:
    assert wm.match(_unit(np.array([1.0, 0.0])), [], threshold=0.5)[0] is None
    with pytest.raises(ValueError):
        wm.match(np.zeros(3), [wm.WriterCentroid("a", _unit(np.array([1.0, 0.0, 0.0])), 1)])
