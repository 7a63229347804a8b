"""The compatibility layer the clustering consumer uses today (chalicelib.writer_matching) over the
one linking implementation (chalicelib.domain.writer_linking)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from chalicelib import writer_matching as wm
from chalicelib.domain import writer_linking as wl


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _people(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([_unit(rng.normal(size=dim)) for _ in range(n)])


def _slip(centre: np.ndarray, rng: np.random.Generator, noise: float = 0.15) -> np.ndarray:
    return _unit(centre + rng.normal(0, noise, len(centre)))


def test_settings_come_from_the_trained_file() -> None:
    data = json.loads((Path(wl.__file__).parents[1] / "models" / "writer_linking.json").read_text())
    assert wm.SETTINGS == wl.LinkSettings.from_dict(data["settings"])
    assert wm.THRESHOLD == data["settings"]["join_z"] and wm.MODEL_VERSION == data["model_version"]


def test_same_person_joins_and_a_stranger_does_not() -> None:
    rng = np.random.default_rng(1)
    a, b, c = _people(3)
    writers = [wm.WriterCentroid("wa", a, 4), wm.WriterCentroid("wb", b, 2)]
    assert wm.match(_slip(a, rng), writers)[0] == "wa"
    who, score = wm.match(c, writers)
    assert who is None and score < wm.THRESHOLD
    assert wm.match(a, [])[0] is None


def test_updated_centroid_is_the_average_of_unit_embeddings() -> None:
    c = wm.WriterCentroid("w", np.array([1.0, 0, 0]), 1)
    assert np.allclose(wm.updated_centroid(c, np.array([0, 2.0, 0])), [0.5, 0.5, 0])


def test_batch_links_two_people_and_keeps_them_apart() -> None:
    rng = np.random.default_rng(2)
    a, b = _people(2, seed=3)
    slips = [a, b, _slip(a, rng), _slip(b, rng), _slip(a, rng)]
    counter = itertools.count(1)
    writers: list[wm.WriterCentroid] = []
    out = wm.assign_batch(slips, writers, new_id=lambda: f"w{next(counter)}")
    ids = [o[0] for o in out]
    assert ids[0] == ids[2] == ids[4] and ids[1] == ids[3] and ids[0] != ids[1]
    assert [o[1] for o in out] == [True, True, False, False, False] and len(writers) == 2


def test_zero_embedding_is_refused() -> None:
    with pytest.raises(ValueError):
        wm.match(np.zeros(3), [wm.WriterCentroid("a", np.array([1.0, 0.0, 0.0]), 1)])


def test_centroids_of_another_model_are_ignored() -> None:
    a = _people(1)[0]
    old = wm.WriterCentroid("old", np.ones(7) / np.sqrt(7), 5)
    assert wm.match(a, [old])[0] is None
