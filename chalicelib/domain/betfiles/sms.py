"""An SMS wager file → SmsWager, its text read as a bet where it is one in a common form.

    Wager Number = 5550123
    Customer Reference: ABC123
    Mobile Number: 07700 900123
    SMS Wager Text: £5 win Sea Bird 14:30 Ascot

The text is free: lines after 'SMS Wager Text' that are not another label continue it. An optional
date/time line ('Received: 01/05/2025 14:02:11') gives the time the bet was struck.
"""

from __future__ import annotations

import re

from chalicelib.domain.betfiles.errors import BetFileError
from chalicelib.domain.betfiles.labels import Field, FieldSet, Labels, require_id
from chalicelib.domain.betfiles.models import SmsWager
from chalicelib.domain.betfiles.text import Line, shorten
from chalicelib.domain.sms_wager import parse_sms_text
from chalicelib.domain.uk_time import parse_uk_datetime

LABELS = Labels(
    {
        "Wager Number": "wager_number",
        "Wager No": "wager_number",
        "Customer Reference": "customer_ref",
        "Customer Ref": "customer_ref",
        "Mobile Number": "mobile",
        "Mobile No": "mobile",
        "Mobile": "mobile",
        "SMS Wager Text": "text",
        "SMS Text": "text",
    }
)
_DATETIME_LINE = re.compile(
    r"^-?\s*(?:[A-Za-z][A-Za-z /]*?\s*[:=\-]?\s*)?(?P<dt>\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?)$"
)
MAX_TEXT = 2000


def normalise_mobile(raw: str) -> str | None:
    """'07700 900123' → '+447700900123'; '+353 87 123 4567' kept international; None when not a phone number."""
    text = re.sub(r"[\s\-().]", "", raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+44" + text[1:]  # a UK national number: the operator's customers are in the UK
    elif text.startswith("44"):
        text = "+" + text
    if not re.fullmatch(r"\+[1-9]\d{7,14}", text):
        return None
    if text.startswith("+440"):
        text = "+44" + text[4:]  # '+44 (0)7700 …' written with the trunk zero
    if text.startswith("+44") and not 9 <= len(text) - 3 <= 10:
        return None  # a UK number has 9 or 10 digits after +44
    return text


def parse_sms_wager(lines: list[Line]) -> SmsWager:
    fields = FieldSet()
    when: tuple[Line, str] | None = None
    text_field: Field | None = None
    text_lines: list[str] = []
    for line in lines:
        labelled = LABELS.parse(line)
        if labelled is not None:
            for f in labelled:
                fields.add(f)
                if f.key == "text":
                    text_lines = [f.value] if f.value else []
            text_field = labelled[-1] if labelled[-1].key == "text" else None
            continue
        if m := _DATETIME_LINE.match(line.text):
            if when is not None:
                raise BetFileError(line.number, f"a second date/time (first on line {when[0].number})")
            when = (line, m["dt"])
            continue
        if text_field is not None:
            text_lines.append(line.text)  # free text goes on until the next label
            continue
        raise BetFileError(line.number, f"unrecognised line {shorten(line.text)!r}")

    wager_number = require_id(fields, "wager_number", "'Wager Number = …'")
    customer = require_id(fields, "customer_ref", "'Customer Reference: …'")
    mobile = fields.require("mobile", "'Mobile Number: …'")
    number = normalise_mobile(mobile.value)
    if number is None:
        # the number itself stays out of the message: it is personal data and the error is stored
        raise BetFileError(mobile.line, "mobile number is not a phone number (+44…, 07…, or +country…)")
    raw_text = fields.get("text")
    if raw_text is None:
        raise BetFileError(None, "missing 'SMS Wager Text: …'")
    text = "\n".join(text_lines).strip()
    if not text:
        raise BetFileError(raw_text.line, "the SMS wager text is empty")
    if len(text) > MAX_TEXT:
        raise BetFileError(raw_text.line, f"the SMS wager text is over {MAX_TEXT} characters")
    received = None
    if when is not None:
        try:
            received = parse_uk_datetime(when[1])
        except ValueError as exc:
            raise BetFileError(when[0].number, str(exc)) from None
    return SmsWager(
        wager_number=wager_number.value,
        customer_ref=customer.value,
        mobile_number=number,
        text=text,
        received_at=received.utc if received else None,
        received_at_ambiguous=received.ambiguous if received else False,
        parsed=parse_sms_text(" ".join(text.split())),
    )
