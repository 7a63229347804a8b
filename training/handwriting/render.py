"""Render synthetic betting slips whose handwriting comes from an OFL handwriting font.

One font = one synthetic writer.  The writer's habits (size, slant, stroke weight, ink,
line pitch, margin, word spacing) are drawn once from the font name + seed; every slip
then adds per-slip variation (size, slant, line rotation, baseline jitter, pen weight,
ink pressure) and scan conditions (rotation, shading, blur, noise, JPEG quality).

The printed template and the scan model are shared with ``local.slipgen``.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from local.slipgen import draw_template, encode_jpeg, layout_lines, random_bet_lines, scan_effects


@dataclass(frozen=True)
class WriterStyle:
    font_path: str
    cap_height: float  # px at 1240-px page width
    shear: float
    weight: int  # -1 erode, 0 none, +1/+2 dilate (px)
    ink: int
    line_gap: float
    left: float
    word_gap: float  # space width multiplier

    @classmethod
    def for_font(cls, name: str, path: Path, seed: int) -> WriterStyle:
        r = np.random.default_rng([zlib.crc32(name.encode()), seed])
        return cls(
            font_path=str(path),
            cap_height=float(r.uniform(24, 52)),
            shear=float(r.normal(0.05, 0.15)),
            weight=int(r.choice([-1, 0, 0, 1, 1, 2])),
            ink=int(r.integers(10, 90)),
            line_gap=float(r.uniform(1.5, 2.6)),
            left=float(r.uniform(0.0, 0.35)),
            word_gap=float(r.uniform(0.7, 1.6)),
        )


@lru_cache(maxsize=64)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=2048)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(_font_bytes(path)), size)


@lru_cache(maxsize=64)
def _cap_ratio(path: str) -> float:
    f = _font(path, 100)
    box = f.getbbox("H")
    return max(1.0, float(box[3] - box[1])) / 100.0


def _word_mask(word: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    l, t, r, b = font.getbbox(word)
    img = Image.new("L", (r - l + 8, b - t + 8), 0)
    ImageDraw.Draw(img).text((4 - l, 4 - t), word, fill=255, font=font)
    return np.asarray(img)


def _line_mask(text: str, st: WriterStyle, size: int, shear: float, rng: np.random.Generator) -> np.ndarray:
    font = _font(st.font_path, size)
    ascent, descent = font.getmetrics()
    words = [w for w in text.split(" ") if w]
    space = max(2, int(font.getlength(" ") * st.word_gap * float(rng.uniform(0.8, 1.25))))
    height = ascent + descent + 16
    jitter = 0.06 * size
    pieces: list[tuple[np.ndarray, int]] = []
    width = 8
    for w in words:
        m = _word_mask(w, font)
        l, t, _, _ = font.getbbox(w)
        dy = 4 + int(t) + int(rng.normal(0, jitter))
        pieces.append((m, dy))
        width += m.shape[1] + space
    layer = np.zeros((height + 8 * int(jitter + 1), width + 8), np.uint8)
    x = 4
    for m, dy in pieces:
        y = max(0, min(layer.shape[0] - m.shape[0], dy + 4 * int(jitter + 1)))
        hh, ww = m.shape
        layer[y : y + hh, x : x + ww] = np.maximum(layer[y : y + hh, x : x + ww], m[: layer.shape[0] - y])
        x += ww + space
    pad = int(abs(shear) * layer.shape[0]) + 4
    layer = np.pad(layer, ((4, 4), (pad, pad)))
    base = layer.shape[0] * 0.75
    m_aff = np.array([[1.0, -shear, shear * base], [0.0, 1.0, 0.0]], np.float32)
    layer = cv2.warpAffine(layer, m_aff, (layer.shape[1], layer.shape[0]))
    ang = float(rng.normal(0, 1.2))
    rot = cv2.getRotationMatrix2D((layer.shape[1] / 2, layer.shape[0] / 2), ang, 1.0)
    layer = cv2.warpAffine(layer, rot, (layer.shape[1], layer.shape[0]))
    ys, xs = np.nonzero(layer > 30)
    if len(ys) == 0:
        return layer[:1, :1]
    return layer[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def render_slip(st: WriterStyle, slip_seed: int, lines: list[str] | None = None) -> bytes:
    """JPEG bytes of one slip written in style ``st``."""
    rng = np.random.default_rng([zlib.crc32(st.font_path.encode()), slip_seed, 0x51])
    if lines is None:
        lines = random_bet_lines(rng)
    page = draw_template(rng)
    size = max(8, int(round(st.cap_height * float(rng.uniform(0.88, 1.12)) / _cap_ratio(st.font_path))))
    shear = st.shear + float(rng.normal(0, 0.04))
    masks = [_line_mask(t, st, size, shear, rng) for t in lines if t.strip()]
    weight = st.weight + (int(rng.choice([-1, 1])) if rng.random() < 0.2 else 0)
    if weight != 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(weight) + 1, 2 * abs(weight) + 1))
        op = cv2.dilate if weight > 0 else cv2.erode
        masks = [op(m, k) for m in masks]
    pressure = float(rng.uniform(0.75, 1.0))
    masks = [(m.astype(np.float32) * pressure).astype(np.uint8) for m in masks]
    layout_lines(page, masks, rng, st.line_gap, st.left, st.ink + int(rng.integers(-10, 10)))
    page = scan_effects(page, rng)
    return encode_jpeg(page, int(rng.integers(60, 95)))
