"""A knockback file → Knockback: a bet the operator refused, why, and the stake it offered instead.

    Knockback Details: KB-20250501-0042
    Customer Ref: ABC123
    - Error Message: Maximum liability exceeded
    - Liability Exceeded: True
    - Maximum stake available: £2.50
    01/05/2025 14:02:11
    - Meeting Name: Ascot 14:30
    - Selection Name: Sea Bird
    - Bet Price: 5.5
    - Wager Name: Single
    - Total Stake: £50.00

A selection block starts at 'Meeting Name' and needs its 'Selection Name' and 'Bet Price' before the
next one. The date/time may stand alone or after a label ('Date/Time: …', 'Attempted at …').
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from chalicelib.domain.betfiles.errors import BetFileError, field_error
from chalicelib.domain.betfiles.labels import Field, FieldSet, Labels, require_id
from chalicelib.domain.betfiles.models import Knockback, KnockbackSelection
from chalicelib.domain.betfiles.text import Line, minor, normalise_price, parse_amount, shorten
from chalicelib.domain.betfiles.wager_names import wager_type
from chalicelib.domain.uk_time import parse_uk_datetime

LABELS = Labels(
    {
        "Knockback Details": "knockback_id",
        "Knockback Ref": "knockback_id",
        "Knockback Id": "knockback_id",
        "Customer Ref": "customer_ref",
        "Customer Reference": "customer_ref",
        "Error Message": "error_message",
        "Error": "error_message",
        "Liability Exceeded": "liability_exceeded",
        "Maximum stake available": "max_stake",
        "Max stake available": "max_stake",
        "Maximum stake": "max_stake",
        "Max stake": "max_stake",
        "Meeting Name": "meeting",
        "Meeting": "meeting",
        "Selection Name": "selection",
        "Selection": "selection",
        "Bet Price": "price",
        "Price": "price",
        "Wager Name": "wager_name",
        "Wager Details": "wager_name",
        "Wager Type": "wager_name",
        "Total Stake": "total_stake",
    }
)
_BLOCK_KEYS = {"meeting", "selection", "price"}
_DATETIME_LINE = re.compile(
    r"^-?\s*(?:[A-Za-z][A-Za-z /]*?\s*[:=\-]?\s*)?(?P<dt>\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?)$"
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_NONE = {"n/a", "na", "none", "-", ""}


class _Block:
    def __init__(self, start: int) -> None:
        self.start = start
        self.values: dict[str, Field] = {}

    def close(self) -> KnockbackSelection:
        for key, label in (("selection", "Selection Name"), ("price", "Bet Price")):
            if key not in self.values or not self.values[key].value:
                raise BetFileError(self.start, f"the selection block starting here has no '{label}'")
        meeting = self.values["meeting"]
        if not meeting.value:
            raise BetFileError(meeting.line, "'Meeting Name' has no value")
        price = self.values["price"]
        try:
            normalised = normalise_price(price.value, "bet price")
        except ValueError as exc:
            raise BetFileError(price.line, str(exc)) from None
        return KnockbackSelection(meeting=meeting.value, selection=self.values["selection"].value, price=normalised)


def parse_knockback(lines: list[Line]) -> Knockback:
    fields = FieldSet()
    when: tuple[Line, str] | None = None
    blocks: list[_Block] = []
    for line in lines:
        labelled = LABELS.parse(line)
        if labelled is not None:
            for f in labelled:
                if f.key in _BLOCK_KEYS:
                    if f.key == "meeting":
                        blocks.append(_Block(f.line))
                    elif not blocks:
                        raise BetFileError(f.line, f"'{f.label}' before any 'Meeting Name'")
                    block = blocks[-1]
                    if f.key in block.values:
                        raise BetFileError(f.line, f"'{f.label}' twice in the block starting on line {block.start}")
                    block.values[f.key] = f
                else:
                    fields.add(f)
            continue
        if m := _DATETIME_LINE.match(line.text):
            if when is not None:
                raise BetFileError(line.number, f"a second date/time (first on line {when[0].number})")
            when = (line, m["dt"])
            continue
        raise BetFileError(line.number, f"unrecognised line {shorten(line.text)!r}")

    kb_id = require_id(fields, "knockback_id", "'Knockback Details: …'")
    customer = require_id(fields, "customer_ref", "'Customer Ref: …'")
    message = fields.require("error_message", "'- Error Message: …'")
    liability = fields.require("liability_exceeded", "'- Liability Exceeded: True|False'")
    flag = liability.value.lower()
    if flag not in _TRUE | _FALSE:
        raise BetFileError(liability.line, f"liability exceeded {liability.value!r} is not True or False")
    max_stake_minor: int | None = None
    if (ms := fields.get("max_stake")) is not None and ms.value.lower() not in _NONE:
        try:
            max_stake_minor = minor(parse_amount(ms.value, "maximum stake available"))
        except ValueError as exc:
            raise BetFileError(ms.line, str(exc)) from None
    if when is None:
        raise BetFileError(None, "missing the date/time (dd/mm/yyyy HH:MM:SS)")
    try:
        at = parse_uk_datetime(when[1])
    except ValueError as exc:
        raise BetFileError(when[0].number, str(exc)) from None
    if not blocks:
        raise BetFileError(None, "missing selections ('- Meeting Name / - Selection Name / - Bet Price')")
    selections = [b.close() for b in blocks]
    wager = fields.require("wager_name", "'- Wager Name: …'")
    total = fields.require("total_stake", "'- Total Stake: …'")
    try:
        total_minor = minor(parse_amount(total.value, "total stake"))
    except ValueError as exc:
        raise BetFileError(total.line, str(exc)) from None
    wtype = wager_type(wager.value)
    try:
        return Knockback(
            knockback_id=kb_id.value,
            customer_ref=customer.value,
            error_message=message.value,
            liability_exceeded=flag in _TRUE,
            max_stake_minor=max_stake_minor,
            attempted_at=at.utc,
            attempted_at_ambiguous=at.ambiguous,
            selections=selections,
            wager_name=wager.value,
            bet_type=wtype.bet_type if wtype else None,
            each_way=wtype.each_way if wtype else False,
            total_stake_minor=total_minor,
        )
    except ValidationError as exc:
        raise field_error(exc, {"error_message": message.line}) from None
