"""Bytes to clean numbered lines, and the small values (amounts, prices, race times) the formats share."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import NamedTuple

from chalicelib.domain.betfiles.errors import BetFileError
from chalicelib.domain.money import parse_odds

DEFAULT_MAX_BYTES = 64 * 1024  # one bet, knockback or SMS is a few hundred bytes; anything near this is not one
MAX_LINE_CHARS = 2000  # no line of the formats comes near; a longer one is junk, refused before any regex sees it

# Whitespace-like control characters that a text editor or a printed report may leave in a line.
_ALLOWED_CONTROLS = {"\t", "\x0b", "\x0c"}

# A £ that went through one encoding too many ('Â£': UTF-8 bytes read as cp1252 and saved as UTF-8) or HTML.
_POUND_SPELLINGS = ("Â£", "&pound;", "&#163;")


class Line(NamedTuple):
    number: int  # 1-based, in the file as sent (blank lines count)
    text: str  # stripped, runs of whitespace (tabs, non-breaking spaces) as one space


def decode(data: bytes) -> str:
    """UTF-8 (BOM optional), UTF-16 with a BOM, else cp1252 (where 0xA3 is £), else latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BetFileError(None, "not a text file (a UTF-16 mark, then bytes that are not UTF-16)") from None
    if b"\x00" in data:
        raise BetFileError(None, "not a text file (it contains NUL bytes)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails; binary is caught by the control-character check


def text_lines(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Line]:
    """The file's non-blank lines, numbered as sent. Raises BetFileError for empty, over-size or binary files."""
    if len(data) > max_bytes:
        raise BetFileError(None, f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise BetFileError(None, "file is empty")
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    for spelling in _POUND_SPELLINGS:
        text = text.replace(spelling, "£")
    lines: list[Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        for ch in raw:
            if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS:
                raise BetFileError(number, f"not a text file (control character U+{ord(ch):04X})")
        clean = " ".join(raw.split())
        if len(clean) > MAX_LINE_CHARS:
            raise BetFileError(number, f"line is over {MAX_LINE_CHARS:,} characters")
        if clean:
            lines.append(Line(number, clean))
    if not lines:
        raise BetFileError(None, "file is empty")
    return lines


_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")
_CENT = Decimal("0.01")


def parse_amount(raw: str, what: str) -> Decimal:
    """'£1,250.00', '£10', '10.00', 'GBP 10' → Decimal('1250.00'). Pounds only: the files carry no currency."""
    text = raw.strip()
    body = text
    if body.startswith("£"):
        body = body[1:].strip()
    elif body.upper().startswith("GBP"):
        body = body[3:].strip()
    elif body.upper().endswith("GBP"):
        body = body[:-3].strip()
    if body[:1] in ("€", "$") or body.upper().startswith(("EUR", "USD")):
        raise ValueError(f"{what} {text!r} is not in pounds")
    if not _AMOUNT.fullmatch(body):
        raise ValueError(f"{what} {text!r} is not an amount")
    return Decimal(body.replace(",", "")).quantize(_CENT)


def minor(amount: Decimal) -> int:
    """Pence from a pounds amount that parse_amount gave (at most 2 decimal places)."""
    return int(amount.scaleb(2))


def normalise_price(raw: str, what: str = "price") -> str:
    """A price as BetIn takes it ('5.5', '9/2', 'evs', 'SP'); raises ValueError naming the problem."""
    text = raw.strip().rstrip(".")
    try:
        parse_odds(text)
    except ValueError as exc:
        raise ValueError(f"{what} {raw!r}: {exc}") from None
    low = text.lower()
    if low == "sp":
        return "SP"
    if low in ("evs", "evens", "even"):
        return "evs"
    return text.replace(" ", "")


_RACE_TIME = re.compile(r"(?P<h>\d{1,2})[:.](?P<m>\d{2})")


def parse_race_time(raw: str) -> str | None:
    """'14:30' or '2.30' → 'HH:MM' as written (no 12-hour guessing here: the files use the 24-hour clock)."""
    m = _RACE_TIME.fullmatch(raw.strip())
    if not m:
        return None
    h, mi = int(m["h"]), int(m["m"])
    if h > 23 or mi > 59:
        return None
    return f"{h:02d}:{mi:02d}"


def event_name(meeting: str, race_time: str | None) -> str:
    """The event as BetIn and results name it: '14:30 Ascot' (time first, as on a racecard)."""
    return f"{race_time} {meeting}" if race_time else meeting


def sport_of(selection: str, race_time: str | None) -> str:
    """The issue's rule: 'trap' in the selection → greyhounds; a meeting with a time → horse racing."""
    if re.search(r"\btrap\b", selection, re.IGNORECASE):
        return "greyhounds"
    return "horse_racing" if race_time else "other"


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
