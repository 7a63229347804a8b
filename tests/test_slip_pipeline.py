"""Slip checks, pre-processing and handwriting embedding on generated slips (no network, no shared data)."""

from __future__ import annotations

import itertools
import struct
import zlib
from dataclasses import replace

import cv2
import numpy as np
import pytest

from chalicelib.domain import writer_linking as wl
from functions.slip_scoring import embedder
from functions.slip_scoring.pipeline import SlipRejected, check_pixels_header, default_limits, embed_slip
from local.slipgen import make_slip


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the pixel data is not needed to reject it)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\0" * 2048
    )


def test_embedding_is_normalised_with_the_model_dimension() -> None:
    from functions.slip_scoring import embedder

    emb = embed_slip(make_slip(writer_seed=1, slip_seed=1))
    v = np.asarray(emb.vector)
    assert v.shape == (int(embedder.metadata()["dim"]),)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-4
    assert emb.model_version == embedder.model_version() and emb.ink_ratio > 0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"%PDF-1.4 " * 400, "not an image"),
        (b"\xff\xd8\xff\xe0 truncated jpeg" * 100, "not an image"),
        (b"x" * 10, "under the 1024 byte minimum"),
    ],
    ids=["pdf", "broken-jpeg", "tiny-file"],
)
def test_bad_files_are_rejected_with_a_reason(data: bytes, needle: str) -> None:
    with pytest.raises(SlipRejected) as exc:
        embed_slip(data)
    assert needle in exc.value.reason, exc.value.reason


def test_over_pixel_limit_is_rejected_from_the_header_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _png_header(9000, 9000)
    decoded: list[int] = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(1))
    with pytest.raises(SlipRejected) as exc:
        check_pixels_header(data, default_limits())
    assert "81.0 MP" in exc.value.reason and "40 MP" in exc.value.reason
    with pytest.raises(SlipRejected):
        embed_slip(data)
    assert decoded == []


def test_over_byte_limit_and_too_small_images_are_rejected() -> None:
    slip = make_slip(writer_seed=2, slip_seed=2)
    with pytest.raises(SlipRejected) as exc:
        embed_slip(slip, replace(default_limits(), max_bytes=len(slip) - 1))
    assert "limit" in exc.value.reason
    ok, small = cv2.imencode(".png", np.full((100, 80), 255, np.uint8))
    with pytest.raises(SlipRejected):
        embed_slip(small.tobytes(), replace(default_limits(), min_bytes=10))


def test_blank_page_has_no_handwriting() -> None:
    ok, blank = cv2.imencode(".jpg", np.full((1755, 1240), 250, np.uint8))
    with pytest.raises(SlipRejected) as exc:
        embed_slip(blank.tobytes())
    assert "handwriting" in exc.value.reason


def test_same_writer_is_closer_than_different_writers() -> None:
    writers = [3, 4, 5, 6]
    embs = {
        w: [np.asarray(embed_slip(make_slip(writer_seed=w, slip_seed=s)).vector) for s in range(3)] for w in writers
    }
    same = [float(a @ b) for w in writers for i, a in enumerate(embs[w]) for b in embs[w][i + 1 :]]
    diff = [float(a @ b) for i, w in enumerate(writers) for v in writers[i + 1 :] for a in embs[w] for b in embs[v]]
    assert np.mean(same) > np.mean(diff) + 0.1, (np.mean(same), np.mean(diff))


DEMO_WRITERS = (1, 2, 7)  # the three slipgen writers the local demo uses


def test_png_input_accepted() -> None:
    img = cv2.imdecode(np.frombuffer(make_slip(2, 0), np.uint8), cv2.IMREAD_GRAYSCALE)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    assert len(embed_slip(buf.tobytes()).vector) == embedder.metadata()["dim"]


def test_corrupt_jpeg_rejected() -> None:
    data = make_slip(1, 0)
    with pytest.raises(SlipRejected, match="not an image"):
        embed_slip(data[:600] + b"\x00" * 2000)


def test_oversized_jpeg_header_rejected() -> None:
    data = make_slip(1, 0)
    i = data.index(b"\xff\xc0")  # baseline SOF: patch height/width to 10000 x 10000
    bad = data[: i + 5] + struct.pack(">HH", 10000, 10000) + data[i + 9 :]
    with pytest.raises(SlipRejected, match=r"100\.0 MP"):
        check_pixels_header(bad, default_limits())


def test_demo_writers_are_linked_and_kept_apart() -> None:
    slips = [(w, s) for s in range(3) for w in DEMO_WRITERS]  # interleaved arrivals
    embs = [np.asarray(embed_slip(make_slip(w, 300 + s)).vector) for w, s in slips]
    counter = itertools.count()
    settings = wl.LinkSettings.load()
    index, states, merges = wl.WriterIndex(settings.dim), {}, []  # type: ignore[var-annotated]
    res = wl.link_batch(embs, index, lambda: f"w{next(counter)}", settings, states, merges)
    found: dict[int, set[str]] = {}
    for (w, _), (wid, _) in zip(slips, res, strict=True):
        found.setdefault(w, set()).add(wl.resolve(wid, merges))
    assert all(len(ids) == 1 for ids in found.values()), found
    assert len(set().union(*found.values())) == len(DEMO_WRITERS)
