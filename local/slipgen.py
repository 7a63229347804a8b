"""Network-free synthetic betting-slip generator (tests, benchmarks and the local demo).

A slip is a printed template resembling a bookmaker's paper slip (header band, ruled
box with footer text, total-stake box, barcode) plus a few lines of "handwriting" drawn
with OpenCV's Hershey fonts.  The handwriting style (font, italic flag, size, stroke
thickness, slant, letter spacing, baseline jitter, ink colour) is derived from a writer
seed, so every slip made with the same ``writer_seed`` looks like the same writer; the
``slip_seed`` varies the content and the per-slip scan conditions.

    from local.slipgen import make_slip
    jpeg = make_slip(writer_seed=1, slip_seed=42)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAGE_W, PAGE_H = 1240, 1755  # ~150 dpi A5-ish, like the real scans

# Template geometry as fractions of the page (x0, y0, x1, y1).
HEADER = (0.045, 0.040, 0.955, 0.145)
MAIN_BOX = (0.045, 0.165, 0.955, 0.805)
STAKE_BOX = (0.585, 0.820, 0.960, 0.945)
BARCODE = (0.045, 0.900, 0.480, 0.950)
# Where handwriting may go inside the main box (above the printed footer text).
WRITING_AREA = (0.09, 0.20, 0.90, 0.72)

FOOTER_LINES = (
    "Please write all selections and instructions clearly and ensure bets are placed early.",
    "House rules apply. Over 18s only. Please gamble responsibly.",
)

HORSES = (
    "Arkle", "Red Rum", "Kauto Star", "Desert Orchid", "Frankel", "Sea Bird", "Golden Miller",
    "Shadow Blaze", "Best Mate", "Denman", "Tiger Roll", "Sprinter Sacre", "Native River",
    "Minella Times", "Galopin Des Champs", "Constitution Hill", "Honeysysuckle", "Altior",
    "Night Nurse", "Istabraq", "Big Buck's", "Hurricane Fly", "Faugheen", "Enable",
)  # fmt: skip
COURSES = (
    "Chelt", "Aintree", "Ascot", "York", "Kempton", "Sandown", "Newbury", "Doncaster",
    "Epsom", "Goodwood", "Haydock", "Punchestown", "Leopardstown", "Wolves", "Lingfield",
)  # fmt: skip
BET_TYPES = ("e/w", "win", "EW", "W", "each way", "to win", "place", "double", "treble")

_HERSHEY = (
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX_SMALL,
)


def _px(frac: tuple[float, float, float, float], w: int = PAGE_W, h: int = PAGE_H) -> tuple[int, int, int, int]:
    return int(frac[0] * w), int(frac[1] * h), int(frac[2] * w), int(frac[3] * h)


def random_bet_lines(rng: np.random.Generator, n: int | None = None, pound: bool = True) -> list[str]:
    """2-5 lines of betting text: selection, event time + course, stake."""
    n = int(rng.integers(2, 6)) if n is None else n
    cur = "£" if pound else ""
    out: list[str] = []
    for i in range(n):
        kind = i % 3 if i < 3 else int(rng.integers(0, 4))
        if kind == 0:
            out.append(str(rng.choice(HORSES)))
        elif kind == 1:
            hh, mm = int(rng.integers(1, 10)), int(rng.choice([0, 5, 10, 15, 20, 30, 35, 40, 45, 50]))
            out.append(f"{hh}.{mm:02d} {rng.choice(COURSES)}")
        elif kind == 2:
            out.append(f"{cur}{int(rng.choice([1, 2, 5, 10, 20, 25, 50]))} {rng.choice(BET_TYPES)}")
        else:
            a, b = int(rng.integers(1, 16)), int(rng.choice([1, 2, 4]))
            out.append(f"{rng.choice(HORSES)} {a}/{b}")
    return out


def draw_template(rng: np.random.Generator, w: int = PAGE_W, h: int = PAGE_H) -> np.ndarray:
    """The printed part of a slip, greyscale uint8 (paper ~235-250, print dark)."""
    paper = int(rng.integers(228, 250))
    img = np.full((h, w), paper, np.uint8)
    s = w / PAGE_W
    ink = int(rng.integers(20, 60))
    x0, y0, x1, y1 = _px(HEADER, w, h)
    cv2.rectangle(img, (x0, y0), (x1, y1), int(rng.integers(60, 100)), -1)
    title = str(rng.choice(["BETSLIP", "BOOKIE", "BETWATCH", "TURF BET"]))
    fs = 2.6 * s
    (tw, th), _ = cv2.getTextSize(title, cv2.FONT_HERSHEY_DUPLEX, fs, max(1, int(9 * s)))
    cv2.putText(
        img, title, ((x0 + x1 - tw) // 2, (y0 + y1 + th) // 2), cv2.FONT_HERSHEY_DUPLEX | cv2.FONT_ITALIC,
        fs, paper, max(1, int(9 * s)), cv2.LINE_AA,
    )  # fmt: skip
    lw = max(1, int(round(float(rng.uniform(1.5, 3.5)) * s)))
    x0, y0, x1, y1 = _px(MAIN_BOX, w, h)
    cv2.rectangle(img, (x0, y0), (x1, y1), ink, lw, cv2.LINE_AA)
    for i, line in enumerate(FOOTER_LINES):
        fsz = 0.62 * s
        (tw, _), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, fsz, 1)
        yy = y1 - int((0.042 - 0.018 * i) * h)
        cv2.putText(
            img, line, ((x0 + x1 - tw) // 2, yy), cv2.FONT_HERSHEY_SIMPLEX, fsz, ink, max(1, int(1.5 * s)), cv2.LINE_AA
        )
    x0, y0, x1, y1 = _px(STAKE_BOX, w, h)
    cv2.rectangle(img, (x0, y0), (x1, y1), ink, lw, cv2.LINE_AA)
    cv2.putText(
        img,
        "TOTAL STAKE",
        (x0 + int(0.3 * (x1 - x0)), y0 + int(0.2 * (y1 - y0))),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.8 * s,
        ink,
        max(1, int(2 * s)),
        cv2.LINE_AA,
    )
    ym = y0 + int(0.62 * (y1 - y0))
    cv2.putText(
        img,
        "L",
        (x0 + int(0.05 * (x1 - x0)), ym),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.8 * s,
        ink,
        max(1, int(2 * s)),
        cv2.LINE_AA,
    )
    cv2.putText(img, ":", ((x0 + x1) // 2, ym), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * s, ink, max(1, int(2 * s)), cv2.LINE_AA)
    cv2.putText(
        img,
        "p",
        (x1 - int(0.08 * (x1 - x0)), ym),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.8 * s,
        ink,
        max(1, int(2 * s)),
        cv2.LINE_AA,
    )
    x0, y0, x1, y1 = _px(BARCODE, w, h)
    x = x0
    while x < x1:
        bw = int(rng.integers(1, 5) * max(1.0, 2 * s))
        cv2.rectangle(img, (x, y0), (min(x1, x + bw - 1), y1), ink, -1)
        x += bw + int(rng.integers(1, 4) * max(1.0, 2 * s))
    cv2.putText(
        img,
        f"{int(rng.integers(10**6, 10**7))}",
        (x1 + int(10 * s), y1),
        cv2.FONT_HERSHEY_PLAIN,
        0.8 * s,
        ink,
        1,
        cv2.LINE_AA,
    )
    return img


def scan_effects(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Per-slip scan conditions: small rotation, shading, blur, sensor noise."""
    h, w = img.shape
    ang = float(rng.normal(0, 0.8 * strength))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
    m[:, 2] += rng.normal(0, 6 * strength, 2)  # type: ignore[arg-type]
    bg = int(np.median(img[:20]))
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=bg)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.normal(0, 1, 2) * 0.12 * strength
    shade = 1.0 - (gx * (xx / w - 0.5) + gy * (yy / h - 0.5)) - float(rng.uniform(0, 0.08 * strength))
    out = img.astype(np.float32) * shade
    k = float(rng.uniform(0.0, 1.2 * strength))
    if k > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), k)
    out += rng.normal(0, float(rng.uniform(1, 6 * strength)), out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encode failed")
    return buf.tobytes()


@dataclass(frozen=True)
class HersheyStyle:
    font: int
    italic: bool
    scale: float  # cv2 font scale at PAGE_W
    thickness: int
    shear: float  # x += shear * (baseline - y): positive leans right
    spacing: float  # extra letter gap, fraction of the font height
    jitter: float  # baseline jitter per letter, fraction of the font height
    ink: int  # ink grey level
    line_gap: float  # line pitch, multiples of the font height
    left: float  # left margin inside the writing area (fraction)
    pen: int = 2  # pen width (px): the glyphs are reduced to their skeleton and redrawn with it
    wobble: float = 1.0  # amplitude (px) of the smooth hand tremor that bends the strokes
    stretch: float = 1.0  # letter width / height habit

    @classmethod
    def from_seed(cls, writer_seed: int) -> HersheyStyle:
        r = np.random.default_rng([writer_seed, 0x5EED])
        return cls(
            font=int(_HERSHEY[int(r.integers(0, len(_HERSHEY)))]),
            italic=bool(r.random() < 0.5),
            scale=float(r.uniform(1.3, 2.6)),
            thickness=int(r.integers(2, 6)),
            shear=float(r.uniform(-0.35, 0.45)),
            spacing=float(r.uniform(-0.05, 0.25)),
            jitter=float(r.uniform(0.0, 0.12)),
            ink=int(r.integers(10, 90)),
            line_gap=float(r.uniform(1.5, 2.6)),
            left=float(r.uniform(0.0, 0.35)),
            # drawn after the fields above, so those stay what they were for every seed
            pen=int(r.integers(1, 4)),
            wobble=float(r.uniform(0.3, 2.0)),
            stretch=float(r.uniform(0.75, 1.3)),
        )


def _skeleton(mask: np.ndarray) -> np.ndarray:
    """Morphological skeleton (Lantuejoul) of a 0/255 mask: the centre lines of the glyphs."""
    img = (mask > 127).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    skel = np.zeros_like(img)
    while img.any():
        eroded = np.asarray(cv2.erode(img, k), np.uint8)
        skel |= img & (1 - np.asarray(cv2.dilate(eroded, k), np.uint8))
        img = eroded
    return skel


def _pen_strokes(mask: np.ndarray, st: HersheyStyle, rng: np.random.Generator) -> np.ndarray:
    """The typeset glyphs turned into pen strokes: skeleton, bent by a smooth tremor, drawn with
    the writer's pen (typeset fonts are far too even and too bold to pass for handwriting)."""
    pad = 8
    m = np.pad(mask, pad)
    if st.stretch != 1.0:
        m = cv2.resize(m, None, fx=st.stretch, fy=1.0, interpolation=cv2.INTER_LINEAR)
    skel = _skeleton(m).astype(np.float32)
    h, w = skel.shape
    sigma = 9.0
    field = [cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigma) for _ in range(2)]
    gain = st.wobble * sigma * 2.5  # a blurred unit field has sd ~ 1 / (2 sqrt(pi) sigma)
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    bent = cv2.remap(skel, xx + gain * field[0], yy + gain * field[1], cv2.INTER_LINEAR)
    lines = (bent > 0.2).astype(np.uint8)
    if st.pen > 1:
        lines = np.asarray(cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (st.pen, st.pen))), np.uint8)
    out = cv2.GaussianBlur(lines.astype(np.float32) * 255.0, (0, 0), 0.6)
    return np.clip(out, 0, 255).astype(np.uint8)


def _draw_line(text: str, st: HersheyStyle, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Ink mask (uint8 0..255) of one handwritten line, letter by letter."""
    font = st.font | (cv2.FONT_ITALIC if st.italic else 0)
    (_, fh), _ = cv2.getTextSize("Hg", font, scale, st.thickness)
    pad = int(fh * 1.5) + 10
    width = sum(cv2.getTextSize(c, font, scale, st.thickness)[0][0] for c in text)
    width += int(len(text) * fh * max(st.spacing, 0.0)) + 2 * pad
    layer = np.zeros((fh * 3 + 2 * pad, width + 2 * pad), np.uint8)
    x = float(pad)
    base = fh * 2 + pad
    for c in text:
        cw = cv2.getTextSize(c, font, scale, st.thickness)[0][0]
        dy = int(rng.normal(0, st.jitter * fh))
        cv2.putText(layer, c, (int(x), base + dy), font, scale, 255, st.thickness, cv2.LINE_AA)
        x += cw + st.spacing * fh + float(rng.normal(0, 0.04 * fh))
    shear = st.shear + float(rng.normal(0, 0.04))
    m = np.array([[1.0, -shear, shear * base], [0.0, 1.0, 0.0]], np.float32)
    layer = cv2.warpAffine(layer, m, (layer.shape[1], layer.shape[0]))  # type: ignore[assignment]
    layer = _pen_strokes(layer, st, rng)
    ys, xs = np.nonzero(layer > 30)
    if len(ys) == 0:
        return layer[:1, :1]
    return layer[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def paste_ink(page: np.ndarray, mask: np.ndarray, x: int, y: int, ink: int) -> None:
    """Darken ``page`` towards ``ink`` where ``mask`` (0..255) is set, clipped to the page."""
    h, w = page.shape
    mh, mw = mask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + mw), min(h, y + mh)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) / 255.0
    region = page[y0:y1, x0:x1].astype(np.float32)
    page[y0:y1, x0:x1] = (region * (1 - m) + ink * m).astype(np.uint8)


def layout_lines(
    page: np.ndarray, masks: list[np.ndarray], rng: np.random.Generator, line_gap: float, left: float, ink: int
) -> None:
    """Place line masks top-down inside the writing area, shrinking them if they do not fit."""
    h, w = page.shape
    ax0, ay0, ax1, ay1 = _px(WRITING_AREA, w, h)
    aw, ah = ax1 - ax0, ay1 - ay0
    hs = [m.shape[0] for m in masks]
    pitch = max(hs) * line_gap / 1.6
    total = pitch * (len(masks) - 1) + hs[-1]
    shrink = min(1.0, ah / max(total, 1.0), aw / max(max(m.shape[1] for m in masks), 1))
    if shrink < 1.0:
        masks = [cv2.resize(m, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA) for m in masks]
        pitch *= shrink
        total *= shrink
    y = ay0 + int(rng.uniform(0, max(1.0, ah - total)))
    for m in masks:
        room = max(1, aw - m.shape[1])
        x = ax0 + int(min(room, max(0.0, left * aw + rng.normal(0, 0.04 * aw))))
        paste_ink(page, m, x, y, ink)
        y += int(pitch * float(rng.uniform(0.9, 1.1)))


def make_slip(writer_seed: int, slip_seed: int, lines: list[str] | None = None) -> bytes:
    """JPEG bytes of one synthetic slip by writer ``writer_seed``."""
    st = HersheyStyle.from_seed(writer_seed)
    rng = np.random.default_rng([writer_seed, slip_seed, 0xB17])
    if lines is None:
        lines = random_bet_lines(rng, pound=False)
    lines = [ln.replace("£", "") for ln in lines]
    page = draw_template(rng)
    scale = st.scale * float(rng.uniform(0.9, 1.1))
    masks = [_draw_line(t, st, rng, scale) for t in lines if t.strip()]
    if masks:
        layout_lines(page, masks, rng, st.line_gap, st.left, st.ink + int(rng.integers(-10, 10)))
    page = scan_effects(page, rng)
    return encode_jpeg(page, int(rng.integers(70, 95)))


def make_blank(seed: int = 0) -> bytes:
    """A slip with the printed template only (no handwriting)."""
    rng = np.random.default_rng([seed, 0xB1A])
    return encode_jpeg(scan_effects(draw_template(rng), rng), 90)


if __name__ == "__main__":  # write a few demo slips to .local/slips
    import pathlib

    out = pathlib.Path(".local/slips")
    out.mkdir(parents=True, exist_ok=True)
    for wseed in (1, 2, 3):
        for sseed in range(3):
            (out / f"writer{wseed}_{sseed}.jpg").write_bytes(make_slip(wseed, sseed))
    print(f"wrote 9 slips to {out}")
