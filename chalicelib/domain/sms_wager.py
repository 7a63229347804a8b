"""Texted wagers in the common forms, as a single bet; anything less certain is left for staff (None).

Understood (case, spacing and word order of selection/course around the time are free):

    £5 win Sea Bird 14:30 Ascot
    5 pounds e/w Sea Bird 2.30 Ascot 9/2
    £10 each way Kauto Star at 7/2 Kempton 15:05
    £2.50 Trap 3 19:47 Romford @ evs

- Stake first, with its unit: '£5', '£5.50', '5 pounds', '5 quid', '5 gbp', '50p'. A bare number is not a
  stake (it could be a price or a time), so the text is left for staff.
- 'win' (or nothing) / 'e/w', 'ew', 'each way' (then the stake is per part: '£5 e/w' pays £10).
- Exactly one race time, '14:30', '2.30' or '2.30pm'. Without am/pm, hours 1-9 are afternoon and evening
  (racing and greyhounds run 10:00-22:00): '2.30' is 14:30.
- A price is optional (none → SP): '9/2', 'evs', 'SP' anywhere, or 'at 5.5' / '@ 5.5' for a decimal.
- The meeting must be a known British or Irish course or greyhound track (chalicelib.domain.meetings),
  so a horse's name is never taken for a course; the rest is the selection.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import meetings
from chalicelib.domain.money import parse_odds

MAX_TEXT = 500  # an SMS is 160 characters, a few concatenated at most; longer is not a simple wager
MAX_SELECTION_WORDS = 6
_CENT = Decimal("0.01")


class ParsedSmsBet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_stake: Decimal = Field(description="Pounds per part ('£5 e/w' → 5.00).")
    each_way: bool
    stake: Decimal = Field(description="Pounds paid: unit stake, twice for each-way.")
    selection: str
    meeting: str
    race_time: str = Field(description="'HH:MM' UK local, 24-hour.")
    price: str = Field(description="'9/2', '5.5', 'evs' or 'SP' (the default).")
    sport: str

    @property
    def event(self) -> str:
        return f"{self.race_time} {self.meeting}"

    def selection_fields(self) -> dict[str, Any]:
        return {"event": self.event, "market": "win", "selection": self.selection, "price": self.price}


_STAKE = re.compile(
    r"^(?:£\s*(?P<pounds>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?)"
    r"|(?P<worded>\d+(?:\.\d{1,2})?)\s*(?:pounds?|quid|gbp)"
    r"|(?P<pence>\d{1,2})\s*p)(?=\s|$)",
    re.IGNORECASE,
)
_MODE = re.compile(r"^(?:(?P<ew>e/w|e\.w\.?|ew|each[\s-]?way)|(?P<win>win|to win))(?=\s|$)", re.IGNORECASE)
_TIME = re.compile(r"^(?P<h>\d{1,2})[:.](?P<m>\d{2})(?P<ampm>am|pm)?$", re.IGNORECASE)
_FRACTION_OR_WORD = re.compile(r"^(?:\d+/\d+|evs|evens|sp)$", re.IGNORECASE)
_DECIMAL = re.compile(r"^\d+(?:\.\d+)?$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z'’.\-]*$|^\([A-Za-z]{2,3}\)$")
_CONNECTORS = {"at", "in", "@", "on"}
# Words that mean more than one single win/each-way bet (or a market we do not read): staff decide.
_NOT_A_SINGLE = {
    "and", "&", "plus", "then", "with", "double", "doubles", "treble", "trebles", "trixie", "patent", "yankee",
    "lucky", "canadian", "heinz", "goliath", "acca", "accumulator", "fold", "forecast", "tricast", "reverse",
    "place", "places", "win", "each", "way", "e/w", "ew", "sp", "if", "cash", "bet", "each-way",
}  # fmt: skip


def _time(token: str) -> str | None:
    m = _TIME.match(token)
    if not m:
        return None
    h, mi, ampm = int(m["h"]), int(m["m"]), (m["ampm"] or "").lower()
    if mi > 59:
        return None
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm == "pm" else 0)
    elif 1 <= h <= 9:
        h += 12
    elif h == 0 or h > 23:
        return None
    return f"{h:02d}:{mi:02d}"


def _price(token: str) -> str | None:
    """A normalised price, or None when the token is not one."""
    try:
        parse_odds(token)
    except ValueError:
        return None
    low = token.lower()
    if low == "sp":
        return "SP"
    return "evs" if low in ("evs", "evens") else token


def _take_price(tokens: list[str]) -> tuple[list[str], str | None] | None:
    """Removes the price from the tokens; None when there are two prices or 'at' is followed by junk."""
    out: list[str] = []
    price: str | None = None
    other_times = sum(1 for t in tokens if ":" in t and _time(t))
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        glued = tok[1:] if tok.startswith("@") and len(tok) > 1 else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        found: str | None = None
        step = 1
        if glued is not None:
            found = _price(glued)
            if found is None:
                return None
        elif tok.lower() in ("at", "@") and nxt is not None and (_FRACTION_OR_WORD.match(nxt) or _DECIMAL.match(nxt)):
            # 'at 2.30' is the race time unless a clock time ('14:30') is also given
            if "." in nxt and _time(nxt) and not other_times:
                out.append(nxt)
                i += 2
                continue
            found = _price(nxt)
            if found is None:
                return None
            step = 2
        elif _FRACTION_OR_WORD.match(tok):
            found = _price(tok)
            if found is None:
                return None
        if found is not None:
            if price is not None:
                return None
            price = found
        else:
            out.append(tok)
        i += step
    return out, price


def _meeting_edge(words: list[str], at_end: bool) -> list[tuple[str, list[str]]]:
    """Ways to read a known meeting at one edge of `words`: (meeting, the words left for the selection)."""
    found = []
    for k in range(1, min(meetings.MAX_WORDS, len(words) - 1) + 1):
        part = words[-k:] if at_end else words[:k]
        name = meetings.meeting_named(" ".join(part))
        if name:
            rest = words[:-k] if at_end else words[k:]
            if at_end and rest and rest[-1].lower() in _CONNECTORS:
                rest = rest[:-1]
            found.append((name, rest))
    return found


def _split(left: list[str], right: list[str]) -> tuple[str, list[str]] | None:
    if right and right[0].lower() in _CONNECTORS:
        right = right[1:]
    ways: list[tuple[str, list[str]]] = []
    if left and right:
        as_right, as_left = meetings.meeting_named(" ".join(right)), meetings.meeting_named(" ".join(left))
        if as_right and not as_left:
            ways.append((as_right, left))
        if as_left and not as_right:
            ways.append((as_left, right))
    elif left:
        ways = _meeting_edge(left, at_end=True) + _meeting_edge(left, at_end=False)
    elif right:
        ways = _meeting_edge(right, at_end=False) + _meeting_edge(right, at_end=True)
    ways = [(m, sel) for m, sel in ways if sel]
    return ways[0] if len(ways) == 1 else None


def _selection(words: list[str]) -> str | None:
    if not 1 <= len(words) <= MAX_SELECTION_WORDS:
        return None
    if any(w.lower() in _NOT_A_SINGLE or w.lower().endswith("fold") for w in words):
        return None
    for i, w in enumerate(words):
        is_trap_number = w.isdigit() and i > 0 and words[i - 1].lower() == "trap" and 1 <= int(w) <= 8
        if not (_WORD.match(w) or is_trap_number):
            return None
    return " ".join(words)


def parse_sms_text(text: str) -> ParsedSmsBet | None:
    """The text as a single win or each-way bet, or None when it is not confidently one."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    t = " ".join(text.replace("Â£", "£").replace("&pound;", "£").split()).rstrip(".!")
    stake_m = _STAKE.match(t)
    if not stake_m:
        return None
    if stake_m["pence"]:
        unit = (Decimal(stake_m["pence"]) / 100).quantize(_CENT)
    else:
        unit = Decimal((stake_m["pounds"] or stake_m["worded"]).replace(",", "")).quantize(_CENT)
    if unit <= 0:
        return None
    rest = t[stake_m.end() :].strip()
    mode = _MODE.match(rest)
    each_way = bool(mode and mode["ew"])
    if mode:
        rest = rest[mode.end() :].strip()
    tokens = rest.split()
    if tokens and tokens[0].lower() == "on":
        tokens = tokens[1:]
    taken = _take_price(tokens)
    if taken is None:
        return None
    tokens, price = taken
    times = [(i, _time(tok)) for i, tok in enumerate(tokens) if _time(tok)]
    if len(times) != 1:
        return None
    at, race_time = times[0]
    left, right = tokens[:at], tokens[at + 1 :]
    if left and left[-1].lower() in _CONNECTORS:
        left = left[:-1]
    split = _split(left, right)
    if split is None:
        return None
    meeting, words = split
    selection = _selection(words)
    if selection is None or race_time is None:
        return None
    trap = any(w.lower() == "trap" for w in words)
    sport = "greyhounds" if trap or meetings.is_greyhound_track(meeting) else "horse_racing"
    return ParsedSmsBet(
        unit_stake=unit,
        each_way=each_way,
        stake=unit * 2 if each_way else unit,
        selection=selection,
        meeting=meeting,
        race_time=race_time,
        price=price or "SP",
        sport=sport,
    )
