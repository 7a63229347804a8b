"""Text-independent writer-identification features of a binarised handwriting crop.

All features are distributions (normalised histograms, square-rooted = Hellinger map) or
a few scalars, so they describe *how* the ink was laid down, not *what* was written:

* contour-direction PDF at two fragment lengths (Bulacu & Schomaker "f1")
* contour-hinge PDF (joint angle of the two legs at each contour point, "f2")
* hinge opening-angle (curvature) PDF
* run-length PDFs: black/white x horizontal/vertical
* stroke-width PDF (distance transform on the ink ridge)
* gradient-orientation (slant) PDF of the ink edges, magnitude weighted
* connected-component statistics: size, aspect, fill, height PDFs and scalars
* 3x3 boundary-pattern PDF (256 codes of the 8-neighbourhood of edge pixels)
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

_DIR_BINS = 12
_HINGE_BINS = 12
_RUN_EDGES = np.array([1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 22, 30, 40, 60, 10**9], np.float64)
_SW_EDGES = np.array([0, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 9, 12, 16, 10**9], np.float64)
_LOG_AREA_EDGES = np.array([0, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 100], np.float64)
_LOG_ASPECT_EDGES = np.array([-100, -1.2, -0.8, -0.4, -0.15, 0.15, 0.4, 0.8, 1.2, 100], np.float64)
_FILL_EDGES = np.array([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01], np.float64)
_HEIGHT_EDGES = np.array([0, 8, 12, 16, 20, 25, 30, 40, 50, 65, 85, 10**9], np.float64)
_GRAD_BINS = 18

_HINGE_IU = np.triu_indices(_HINGE_BINS)

FEATURE_GROUPS: tuple[tuple[str, int], ...] = (
    ("dir_k4", _DIR_BINS),
    ("dir_k8", _DIR_BINS),
    ("hinge", len(_HINGE_IU[0])),
    ("hinge_open", _HINGE_BINS),
    ("run_black_h", len(_RUN_EDGES) - 1),
    ("run_black_v", len(_RUN_EDGES) - 1),
    ("run_white_h", len(_RUN_EDGES) - 1),
    ("run_white_v", len(_RUN_EDGES) - 1),
    ("stroke_width", len(_SW_EDGES) - 1),
    ("grad_orient", _GRAD_BINS),
    ("cc_log_area", len(_LOG_AREA_EDGES) - 1),
    ("cc_log_aspect", len(_LOG_ASPECT_EDGES) - 1),
    ("cc_fill", len(_FILL_EDGES) - 1),
    ("cc_height", len(_HEIGHT_EDGES) - 1),
    ("pattern3x3", 256),
    ("scalars", 6),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f"{g}_{i}" for g, n in FEATURE_GROUPS for i in range(n))
N_FEATURES = len(FEATURE_NAMES)


def _pdf(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, np.float64).ravel()
    s = counts.sum()
    return np.sqrt(counts / s) if s > 0 else counts


def _contour_features(ink: np.ndarray) -> list[np.ndarray]:
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    d4: list[Any] = []
    d8: list[Any] = []
    h1: list[Any] = []
    h2: list[Any] = []
    for c in contours:
        p = c[:, 0, :].astype(np.float64)
        if len(p) < 20:
            continue
        for k, acc in ((4, d4), (8, d8)):
            v = np.roll(p, -k, axis=0) - p
            acc.append(np.arctan2(-v[:, 1], v[:, 0]) % np.pi)
        k = 6
        a = np.roll(p, -k, axis=0) - p
        b = np.roll(p, k, axis=0) - p
        h1.append(np.arctan2(-a[:, 1], a[:, 0]) % (2 * np.pi))
        h2.append(np.arctan2(-b[:, 1], b[:, 0]) % (2 * np.pi))
    if not d4:
        return [np.zeros(_DIR_BINS), np.zeros(_DIR_BINS), np.zeros(len(_HINGE_IU[0])), np.zeros(_HINGE_BINS)]
    a4, a8 = np.concatenate(d4), np.concatenate(d8)
    p1, p2 = np.concatenate(h1), np.concatenate(h2)
    f_d4 = np.histogram(a4, _DIR_BINS, (0, np.pi))[0]
    f_d8 = np.histogram(a8, _DIR_BINS, (0, np.pi))[0]
    lo, hi = np.minimum(p1, p2), np.maximum(p1, p2)
    hinge = np.histogram2d(lo, hi, _HINGE_BINS, [[0, 2 * np.pi], [0, 2 * np.pi]])[0][_HINGE_IU]
    opening = np.minimum(hi - lo, 2 * np.pi - (hi - lo))  # 0..pi
    f_open = np.histogram(opening, _HINGE_BINS, (0, np.pi))[0]
    return [_pdf(f_d4), _pdf(f_d8), _pdf(hinge), _pdf(f_open)]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lengths of 1-runs along rows, and of 0-gaps bounded by 1s on both sides."""
    padded = np.pad(mask, ((0, 0), (1, 1))).astype(np.int8)
    w = padded.shape[1]
    d = np.diff(padded.ravel())
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    black = ends - starts
    same_row = (starts[1:] // w) == (ends[:-1] // w)
    white = (starts[1:] - ends[:-1])[same_row]
    return black, white


def _run_features(ink: np.ndarray) -> list[np.ndarray]:
    bh, wh = _runs(ink)
    bv, wv = _runs(np.ascontiguousarray(ink.T))
    return [_pdf(np.histogram(r, _RUN_EDGES)[0]) for r in (bh, bv, wh, wv)]


def extract_features(ink: np.ndarray) -> np.ndarray:
    """Fixed-length float32 feature vector (``N_FEATURES``) of a 0/1 uint8 ink crop."""
    ink = np.ascontiguousarray(ink, dtype=np.uint8)
    feats: list[np.ndarray] = []
    feats += _contour_features(ink)
    feats += _run_features(ink)

    dt = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (dt >= cv2.dilate(dt, np.ones((3, 3), np.uint8))) & (ink > 0)
    widths = 2.0 * dt[ridge]
    feats.append(_pdf(np.histogram(widths, _SW_EDGES)[0]))

    f = cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    sel = mag > 0.1
    theta = (np.arctan2(-gy[sel], gx[sel]) + np.pi / 2) % np.pi  # edge direction
    feats.append(_pdf(np.histogram(theta, _GRAD_BINS, (0, np.pi), weights=mag[sel])[0]))

    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    st = stats[1:].astype(np.float64)
    cw, ch, area = st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT], st[:, cv2.CC_STAT_AREA]
    feats.append(_pdf(np.histogram(np.log(np.maximum(area, 1)), _LOG_AREA_EDGES)[0]))
    feats.append(_pdf(np.histogram(np.log(cw / ch), _LOG_ASPECT_EDGES)[0]))
    feats.append(_pdf(np.histogram(area / (cw * ch), _FILL_EDGES)[0]))
    feats.append(_pdf(np.histogram(ch, _HEIGHT_EDGES, weights=area)[0]))

    # 3x3 neighbourhood codes of boundary pixels.
    p = np.pad(ink, 1)
    h, w = ink.shape
    code = np.zeros((h, w), np.int32)
    shifts = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))
    for bit, (dy, dx) in enumerate(shifts):
        code |= p[dy : dy + h, dx : dx + w].astype(np.int32) << bit
    boundary = (ink > 0) & (code != 255)
    feats.append(_pdf(np.bincount(code[boundary], minlength=256)))

    ink_px = float(ink.sum())
    ys, xs = np.nonzero(ink)
    bbox = float((np.ptp(ys) + 1) * (np.ptp(xs) + 1)) if len(ys) else 1.0
    scalars = np.array(
        [
            np.log1p(np.median(widths)) if len(widths) else 0.0,
            np.log1p(np.median(ch)) if len(ch) else 0.0,
            np.log1p(np.average(ch, weights=area)) if len(ch) else 0.0,
            ink_px / bbox,
            np.log1p(n - 1) - np.log1p(ink_px / 1000.0),
            float(boundary.sum()) / max(ink_px, 1.0),
        ]
    )
    feats.append(scalars)
    out = np.concatenate(feats).astype(np.float32)
    assert out.shape == (N_FEATURES,), out.shape
    return out
