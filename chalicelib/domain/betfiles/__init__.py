"""The operator's raw bet files: one website bet, knockback or SMS wager per file (see docs/bet-files.md).

record = parse_bet_file(data)        # WebsiteBet | Knockback | SmsWager, or raises BetFileError
BetIn.model_validate(record.bet_fields())   # a WebsiteBet (an SmsWager: bet_fields(received_at=…))
"""

from __future__ import annotations

import re

from chalicelib.domain.betfiles.errors import BetFileError
from chalicelib.domain.betfiles.knockback import parse_knockback
from chalicelib.domain.betfiles.models import (
    RECORD_ADAPTER,
    BetFileRecord,
    FileSelection,
    Knockback,
    KnockbackSelection,
    SmsWager,
    WebsiteBet,
)
from chalicelib.domain.betfiles.sms import normalise_mobile, parse_sms_wager
from chalicelib.domain.betfiles.text import DEFAULT_MAX_BYTES, Line, text_lines
from chalicelib.domain.betfiles.website import parse_website_bet

__all__ = [
    "DEFAULT_MAX_BYTES",
    "RECORD_ADAPTER",
    "BetFileError",
    "BetFileRecord",
    "FileSelection",
    "Knockback",
    "KnockbackSelection",
    "SmsWager",
    "WebsiteBet",
    "detect_kind",
    "normalise_mobile",
    "parse_bet_file",
]

# The order: a knockback, then an SMS wager, else a website bet; each known by its own label.
_KNOCKBACK = re.compile(r"^-?\s*knockback\s+(?:details|ref|id)\b", re.IGNORECASE)
_SMS = re.compile(r"^-?\s*sms\s+(?:wager\s+)?text\b", re.IGNORECASE)


def detect_kind(lines: list[Line]) -> str:
    if any(_KNOCKBACK.match(line.text) for line in lines):
        return "knockback"
    if any(_SMS.match(line.text) for line in lines):
        return "sms"
    return "bet"


def parse_bet_file(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> WebsiteBet | Knockback | SmsWager:
    """One raw file as its validated record. Raises BetFileError (and nothing else) naming the line."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BetFileError(None, "not a text file (expected bytes)")
    lines = text_lines(bytes(data), max_bytes=max_bytes)
    kind = detect_kind(lines)
    if kind == "knockback":
        return parse_knockback(lines)
    if kind == "sms":
        return parse_sms_wager(lines)
    return parse_website_bet(lines)
