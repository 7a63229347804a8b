"""Slip pre-processing: isolate the handwriting of a scanned betting slip.

Steps (all OpenCV + numpy):

1. scale the page to a fixed width (``PAGE_WIDTH`` px, ~150 dpi for an A5 slip);
2. flatten the scan shading (divide by a dilated/blurred background estimate);
3. binarise (ink = darker than ``INK_LEVEL`` of the local paper level);
4. find the large ruled writing box from the long horizontal/vertical line structure and
   warp it upright (this deskews the slip and crops away the header band, the stake box
   and the barcode);
5. drop the box border and the printed footer text band, remove any remaining long
   ruled lines by morphology, drop specks;
6. crop to the handwriting bounding box.

If no box is found (a photo, another template) the page minus its top and bottom bands is
used instead, with the same line removal.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAGE_WIDTH = 1240
INK_LEVEL = 0.72  # ink when darker than this fraction of the local paper brightness
MIN_INK_PIXELS = 400  # below this there is no usable handwriting
MIN_SPECK = 12  # connected components smaller than this (px) are noise
FOOTER_FRACTION = 0.15  # bottom band of the writing box that holds printed text
BORDER_FRACTION = 0.02  # inset from the box border


@dataclass(frozen=True)
class Handwriting:
    ink: np.ndarray  # uint8 0/1 mask, cropped to the handwriting (+ small margin)
    ink_ratio: float  # ink pixels / writing-area pixels
    box_found: bool
    angle: float  # deskew angle applied (degrees)


class NoHandwriting(ValueError):
    pass


def normalise_page(gray: np.ndarray) -> np.ndarray:
    """Resize to PAGE_WIDTH and flatten the background; returns float32 0..1 (1 = paper)."""
    h, w = gray.shape
    scale = PAGE_WIDTH / w
    gray = cv2.resize(
        gray, (PAGE_WIDTH, max(1, round(h * scale))), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    small = cv2.resize(gray, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA)
    bg = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    bg = cv2.GaussianBlur(bg, (0, 0), 3)
    bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(gray.astype(np.float32) / np.maximum(bg.astype(np.float32), 1.0), 0.0, 1.0)


def binarise(norm: np.ndarray) -> np.ndarray:
    return (norm < INK_LEVEL).astype(np.uint8)


def long_lines(ink: np.ndarray, frac_h: float, frac_v: float) -> np.ndarray:
    """Mask of horizontal/vertical straight runs longer than the given fractions of the size."""
    h, w = ink.shape
    kh = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(w * frac_h)), 1))
    kv = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, int(h * frac_v))))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kh) | cv2.morphologyEx(ink, cv2.MORPH_OPEN, kv)  # type: ignore[operator]
    return lines


def find_box(ink: np.ndarray) -> np.ndarray | None:
    """Corner points (4x2 float32: tl, tr, br, bl) of the largest ruled box, or None."""
    h, w = ink.shape
    # Tolerate a few degrees of skew: bridge small breaks before looking for long lines.
    bridged = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    lines = long_lines(bridged, 0.12, 0.08)
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best: np.ndarray | None = None
    best_area = 0.2 * h * w
    for c in contours:
        rect = cv2.minAreaRect(c)
        (rw, rh) = rect[1]
        area = rw * rh
        if area > best_area and area < 0.95 * h * w:
            best, best_area = cv2.boxPoints(rect), area
    if best is None:
        return None
    s = best.sum(axis=1)
    d = np.diff(best, axis=1).ravel()
    return np.array([best[np.argmin(s)], best[np.argmin(d)], best[np.argmax(s)], best[np.argmax(d)]], np.float32)


def _remove_specks(ink: np.ndarray, min_area: int) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels].astype(np.uint8)


def extract_handwriting(gray: np.ndarray) -> Handwriting:
    """Greyscale page (uint8) -> binarised, deskewed, template-free handwriting crop."""
    norm = normalise_page(gray)
    ink = binarise(norm)
    corners = find_box(ink)
    angle = 0.0
    if corners is not None:
        tl, tr, br, bl = corners
        bw = int(round((np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2))
        bh = int(round((np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2))
        angle = float(np.degrees(np.arctan2(tr[1] - tl[1], tr[0] - tl[0])))
        dst = np.array([[0, 0], [bw - 1, 0], [bw - 1, bh - 1], [0, bh - 1]], np.float32)
        m = cv2.getPerspectiveTransform(corners, dst)
        region = cv2.warpPerspective(norm, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=1.0)
        bx, by = int(bw * BORDER_FRACTION), int(bh * BORDER_FRACTION)
        region = region[by : bh - max(by, int(bh * FOOTER_FRACTION)), bx : bw - bx]
    else:
        h = norm.shape[0]
        region = norm[int(0.15 * h) : int(0.80 * h), int(0.03 * PAGE_WIDTH) : int(0.97 * PAGE_WIDTH)]
    if region.size == 0:
        raise NoHandwriting("no handwriting found")
    area = binarise(region)
    area &= 1 - long_lines(area, 0.3, 0.3)
    area = _remove_specks(area, MIN_SPECK)
    count = int(area.sum())
    if count < MIN_INK_PIXELS:
        raise NoHandwriting("no handwriting found")
    ys, xs = np.nonzero(area)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = np.pad(area[y0:y1, x0:x1], 8)
    return Handwriting(ink=crop, ink_ratio=count / float(area.size), box_found=corners is not None, angle=angle)
