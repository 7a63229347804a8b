"""Slip bytes -> handwriting embedding (runtime entry point of the slip-scoring function).

``embed_slip`` validates the upload (size, format, pixel count from the header *before*
decoding, minimum side), pre-processes the scan (``preprocess``), computes writer
features (``features``) and projects them with the ONNX model (``embedder``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from chalicelib.domain.slips import SlipLimits

from . import embedder
from .features import extract_features
from .preprocess import NoHandwriting, extract_handwriting

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
# SOF markers carrying the frame size (not DHT C4, JPG C8, DAC CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_NOT_IMAGE = "not an image (could not decode JPEG/PNG)"


def default_limits() -> SlipLimits:
    """The limits of the deployment's settings (their defaults are written once, in core/config.py)."""
    from chalicelib.core.config import settings

    cfg = settings()
    return SlipLimits(cfg.slip_max_bytes, cfg.slip_min_bytes, cfg.slip_max_pixels, cfg.slip_min_side)


class SlipRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SlipEmbedding:
    vector: list[float]
    width: int
    height: int
    ink_ratio: float
    model_version: str


def _mb(n: float) -> str:
    # Binary megabytes: the unit the limits are set in (8 MiB is "8.0 MiB", not "8.4 MB").
    return f"{n / (1024 * 1024):.1f} MiB"


def image_size(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from a JPEG/PNG header, without decoding pixels."""
    if data.startswith(_PNG_SIG):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise SlipRejected(_NOT_IMAGE)
        w, h = struct.unpack(">II", data[16:24])
        return "png", int(w), int(h)
    if data.startswith(_JPEG_SOI):
        i, n = 2, len(data)
        while i + 4 <= n:
            if data[i] != 0xFF:
                raise SlipRejected(_NOT_IMAGE)
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
                i += 2
                continue
            if marker == 0xD9 or marker == 0xDA:  # EOI / SOS before any frame header
                break
            (seg_len,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in _SOF:
                if i + 9 > n:
                    break
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return "jpeg", int(w), int(h)
            i += 2 + seg_len
        raise SlipRejected(_NOT_IMAGE)
    raise SlipRejected(_NOT_IMAGE)


def check_pixels_header(data: bytes, limits: SlipLimits) -> None:
    """Reject images over the pixel limit from the header alone (decompression-bomb guard)."""
    _, w, h = image_size(data)
    if w <= 0 or h <= 0:
        raise SlipRejected(_NOT_IMAGE)
    pixels = w * h
    if pixels > limits.max_pixels:
        raise SlipRejected(f"image is {w}x{h} = {pixels / 1e6:.1f} MP, over the {limits.max_pixels / 1e6:.0f} MP limit")


def decode_slip(data: bytes, limits: SlipLimits | None = None) -> np.ndarray:
    """Validated greyscale uint8 page."""
    limits = limits or default_limits()
    if len(data) > limits.max_bytes:
        raise SlipRejected(f"file is {_mb(len(data))}, over the {_mb(limits.max_bytes)} limit")
    if len(data) < limits.min_bytes:
        raise SlipRejected(f"file is {len(data)} bytes, under the {limits.min_bytes} byte minimum")
    check_pixels_header(data, limits)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        raise SlipRejected(_NOT_IMAGE)
    h, w = img.shape[:2]
    if min(h, w) < limits.min_side:
        raise SlipRejected(f"image is {w}x{h}, smaller than {limits.min_side} px on a side")
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(float(img.max()), 1.0))
    return img


def embed_slip(data: bytes, limits: SlipLimits | None = None) -> SlipEmbedding:
    """Embed the handwriting of one scanned slip; raises ``SlipRejected`` with a reason."""
    gray = decode_slip(data, limits)
    try:
        hw = extract_handwriting(gray)
    except NoHandwriting as exc:
        raise SlipRejected("no handwriting found") from exc
    vec = embedder.embed_features(extract_features(hw.ink))[0]
    return SlipEmbedding(
        vector=[float(v) for v in vec],
        width=int(gray.shape[1]),
        height=int(gray.shape[0]),
        ink_ratio=float(hw.ink_ratio),
        model_version=embedder.model_version(),
    )
