"""A website bet file → WebsiteBet. Every line must be one of the five kinds below, or the file is refused.

Wager Number - 1234567 / Customer Reference - ABC123 / Customer Risk Category - W
Bet placed on 01/05/2025 14:02:11
Ascot, 14:30, - Sea Bird at 5.5
Bets Win Only: 1 Single. Unit Stake: £10.00, Payment: £10.00.
Wagers : 1 x £10.00 : Single
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import ValidationError

from chalicelib.domain.betfiles.errors import BetFileError, field_error
from chalicelib.domain.betfiles.labels import FieldSet, Labels, require_id
from chalicelib.domain.betfiles.models import FileSelection, WebsiteBet
from chalicelib.domain.betfiles.text import (
    Line,
    event_name,
    normalise_price,
    parse_amount,
    parse_race_time,
    shorten,
    sport_of,
)
from chalicelib.domain.betfiles.wager_names import FORECAST_TYPES, wager_type
from chalicelib.domain.bets import BET_SHAPES
from chalicelib.domain.uk_time import parse_uk_datetime

HEADER = Labels(
    {
        "Wager Number": "wager_number",
        "Wager No": "wager_number",
        "Customer Reference": "customer_ref",
        "Customer Ref": "customer_ref",
        "Customer Risk Category": "risk_category",
        "Risk Category": "risk_category",
    }
)

_PLACED = re.compile(r"^bet placed on\s*:?\s*(?P<dt>.*)$", re.IGNORECASE)
_BETS = re.compile(r"^bets\b", re.IGNORECASE)
_BETS_LINE = re.compile(
    r"^bets\s+(?P<mode>[a-z/ \-]+?)\s*:\s*(?P<count>\S+)\s+(?P<name>[^.,;]+?)\s*[.,;]?\s*"
    r"unit\s+stake\s*:?\s*(?P<unit>.+?)\s*[,;.]?\s+payment\s*:?\s*(?P<pay>.+?)\.?$",
    re.IGNORECASE,
)
_WAGERS = re.compile(r"^wagers?\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
# '<meeting>, <time>, - <selection> at <price>': the first ' - ' ends the event (str methods and a plain
# search, not one backtracking regex, so a long junk line costs linear time).
_EVENT_END = re.compile(r"(?:,\s*|\s)-\s")


# Bets-line mode spellings → each-way?; forecast modes are checked against the wager type.
_MODES = {
    "win only": "win", "win": "win",
    "each way": "each_way", "each-way": "each_way", "eachway": "each_way", "e/w": "each_way", "ew": "each_way",
    "forecast": "forecast", "straight forecast": "forecast", "reverse forecast": "forecast",
    "dual forecast": "forecast", "tricast": "forecast", "straight tricast": "forecast",
}  # fmt: skip


class _Bets:
    def __init__(self, line: Line, mode: str, count: int, unit: Decimal, payment: Decimal) -> None:
        self.line, self.mode, self.count, self.unit, self.payment = line, mode, count, unit, payment


def _amount(raw: str, what: str, line: Line) -> Decimal:
    try:
        return parse_amount(raw, what)
    except ValueError as exc:
        raise BetFileError(line.number, str(exc)) from None


def _bets_line(line: Line) -> _Bets:
    m = _BETS_LINE.match(line.text)
    if not m:
        raise BetFileError(
            line.number,
            f"bets line {shorten(line.text)!r} is not 'Bets Win Only: 1 Single. Unit Stake: £10.00, Payment: £10.00.'",
        )
    mode = _MODES.get(" ".join(m["mode"].lower().split()))
    if mode is None:
        raise BetFileError(line.number, f"bets '{m['mode']}' is not Win Only, Each Way or a forecast")
    if not m["count"].isdigit() or int(m["count"]) < 1:
        raise BetFileError(line.number, f"number of bets {m['count']!r} is not a whole number")
    unit = _amount(m["unit"], "unit stake", line)
    payment = _amount(m["pay"], "payment", line)
    if unit <= 0:
        raise BetFileError(line.number, "unit stake must be greater than zero")
    return _Bets(line, mode, int(m["count"]), unit, payment)


def _split_selection_line(text: str) -> tuple[str, str, str] | None:
    """(event, selection, price), or None when the line is not a selection line."""
    cut = text.lower().rfind(" at ")  # the last ' at ': a horse may be called 'Look At Me'
    if cut == -1:
        return None
    head, price = text[:cut], text[cut + 4 :].strip().rstrip(".")
    if not price or " " in price:
        return None
    m = _EVENT_END.search(head, 1)
    if m is None:
        return None
    event, selection = head[: m.start()].strip(), head[m.end() :].strip()
    if not event or not selection:
        return None
    return event, selection, price


def _selection_line(line: Line) -> FileSelection | None:
    split = _split_selection_line(line.text)
    if split is None:
        return None
    event_text, selection, raw_price = split
    parts = [p.strip() for p in event_text.split(",") if p.strip()]
    times = [(i, t) for i, p in enumerate(parts) if (t := parse_race_time(p))]
    if len(times) > 1:
        raise BetFileError(line.number, f"selection line {shorten(line.text)!r} has more than one race time")
    race_time = times[0][1] if times else None
    meeting_parts = [p for i, p in enumerate(parts) if not (times and i == times[0][0])]
    if not meeting_parts:
        raise BetFileError(line.number, "selection line has no meeting or event name")
    meeting = ", ".join(meeting_parts)
    try:
        price = normalise_price(raw_price, f"price of {selection}")
    except ValueError as exc:
        raise BetFileError(line.number, str(exc)) from None
    if len(meeting) > 150 or len(selection) > 200:
        raise BetFileError(line.number, "selection line is too long for a meeting and a selection")
    return FileSelection(
        event=event_name(meeting, race_time),
        meeting=meeting,
        race_time=race_time,
        selection=selection,
        price=price,
        sport=sport_of(selection, race_time),
    )


def parse_website_bet(lines: list[Line]) -> WebsiteBet:
    fields = FieldSet()
    placed: tuple[Line, str] | None = None
    bets: _Bets | None = None
    wagers: tuple[Line, str] | None = None
    selections: list[tuple[Line, FileSelection]] = []
    for line in lines:
        labelled = HEADER.parse(line)
        if labelled is not None:
            for f in labelled:
                fields.add(f)
            continue
        if m := _PLACED.match(line.text):
            if placed is not None:
                raise BetFileError(line.number, f"'Bet placed on' is given twice (first on line {placed[0].number})")
            placed = (line, m["dt"])
            continue
        if _BETS.match(line.text):
            if bets is not None:
                raise BetFileError(line.number, f"a second bets line (first on line {bets.line.number})")
            bets = _bets_line(line)
            continue
        if m := _WAGERS.match(line.text):
            if wagers is not None:
                raise BetFileError(line.number, f"a second 'Wagers' line (first on line {wagers[0].number})")
            wagers = (line, m["rest"].rsplit(":", 1)[-1].strip())
            continue
        sel = _selection_line(line)
        if sel is not None:
            selections.append((line, sel))
            continue
        raise BetFileError(line.number, f"unrecognised line {shorten(line.text)!r}")

    wager_number = require_id(fields, "wager_number", "'Wager Number - …'")
    customer = require_id(fields, "customer_ref", "'Customer Reference - …'")
    risk = fields.get("risk_category")
    if risk is not None and not re.fullmatch(r"[A-Za-z]", risk.value):
        raise BetFileError(risk.line, f"customer risk category {risk.value!r} is not a single letter")
    if placed is None:
        raise BetFileError(None, "missing 'Bet placed on dd/mm/yyyy HH:MM:SS'")
    try:
        when = parse_uk_datetime(placed[1])
    except ValueError as exc:
        raise BetFileError(placed[0].number, str(exc)) from None
    if not selections:
        raise BetFileError(None, "missing selection lines ('Ascot, 14:30, - Sea Bird at 5.5')")
    if bets is None:
        raise BetFileError(None, "missing 'Bets Win Only: …. Unit Stake: …, Payment: ….'")
    if wagers is None:
        raise BetFileError(None, "missing 'Wagers : …: Single' (the bet type)")

    wline, wname = wagers
    if not wname:
        raise BetFileError(wline.number, "'Wagers' names no bet type")
    wtype = wager_type(wname)
    if wtype is None:
        raise BetFileError(wline.number, f"wager type {shorten(wname)!r} is not a bet type betwatch knows")
    bet_type = wtype.bet_type
    forecast = bet_type in FORECAST_TYPES
    if bets.mode == "forecast" and not forecast:
        raise BetFileError(bets.line.number, f"a forecast bets line, but the wager is a {wname} (line {wline.number})")
    if bets.mode == "each_way" and forecast:
        raise BetFileError(bets.line.number, f"a {wname} cannot be each-way")
    if wtype.each_way and bets.mode != "each_way":
        raise BetFileError(wline.number, f"the wager is {wname} but the bets line (line {bets.line.number}) is not")
    each_way = bets.mode == "each_way"

    (lo, hi), base_lines = BET_SHAPES[bet_type]
    n = len(selections)
    if not lo <= n <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise BetFileError(wline.number, f"a {bet_type.value} takes {want} selections, the file has {n}")
    if bets.count != base_lines:
        raise BetFileError(bets.line.number, f"{bets.count} bets, but a {wname} is {base_lines}")
    if forecast and len({s.event.lower() for _, s in selections}) != 1:
        raise BetFileError(selections[1][0].number, f"a {wname}'s selections must all be in the same race")
    lines_total = base_lines * (2 if each_way else 1)
    expected = bets.unit * lines_total
    if expected != bets.payment:
        raise BetFileError(
            bets.line.number,
            f"unit stake £{bets.unit} × {lines_total} lines = £{expected}, but payment is £{bets.payment}",
        )
    sports = {s.sport for _, s in selections}
    try:
        return WebsiteBet(
            wager_number=wager_number.value,
            customer_ref=customer.value,
            risk_category=risk.value.upper() if risk else None,
            placed_at=when.utc,
            placed_at_ambiguous=when.ambiguous,
            selections=[s for _, s in selections],
            wager_name=wname,
            bet_type=bet_type,
            each_way=each_way,
            lines=lines_total,
            unit_stake=bets.unit,
            stake=bets.payment,
            sport=sports.pop() if len(sports) == 1 else "mixed",
        )
    except ValidationError as exc:
        raise field_error(exc, {"wager_number": wager_number.line, "customer_ref": customer.line}) from None
