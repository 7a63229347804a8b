"""Wager names as the operator's files write them ('Single', 'Lucky 15', 'Each Way Yankee') → BetType."""

from __future__ import annotations

import re
from typing import NamedTuple

from chalicelib.domain.bets import BetType

FORECAST_TYPES = frozenset({BetType.forecast, BetType.reverse_forecast, BetType.tricast})

# Spellings after lower-casing and squeezing out spaces, hyphens and dots ('Lucky-15' → 'lucky15').
_NAMES: dict[str, BetType] = {
    "single": BetType.single,
    "singles": BetType.single,
    "win": BetType.single,
    "double": BetType.double,
    "doubles": BetType.double,
    "treble": BetType.treble,
    "trebles": BetType.treble,
    "accumulator": BetType.accumulator,
    "acca": BetType.accumulator,
    "acc": BetType.accumulator,
    "fourfold": BetType.accumulator,
    "4fold": BetType.accumulator,
    "fivefold": BetType.accumulator,
    "5fold": BetType.accumulator,
    "sixfold": BetType.accumulator,
    "6fold": BetType.accumulator,
    "sevenfold": BetType.accumulator,
    "7fold": BetType.accumulator,
    "eightfold": BetType.accumulator,
    "8fold": BetType.accumulator,
    "forecast": BetType.forecast,
    "straightforecast": BetType.forecast,
    "sf": BetType.forecast,
    "reverseforecast": BetType.reverse_forecast,
    "dualforecast": BetType.reverse_forecast,
    "rf": BetType.reverse_forecast,
    "tricast": BetType.tricast,
    "straighttricast": BetType.tricast,
    "trixie": BetType.trixie,
    "patent": BetType.patent,
    "yankee": BetType.yankee,
    "lucky15": BetType.lucky15,
    "canadian": BetType.canadian,
    "superyankee": BetType.canadian,
    "lucky31": BetType.lucky31,
    "heinz": BetType.heinz,
    "lucky63": BetType.lucky63,
    "superheinz": BetType.super_heinz,
    "goliath": BetType.goliath,
}

_EACH_WAY = re.compile(r"^(?:each\s*-?\s*way|e\s*/\s*w|e\.w\.?|ew)\s+|\s+(?:each\s*-?\s*way|e\s*/\s*w|e\.w\.?|ew)$")


class WagerType(NamedTuple):
    bet_type: BetType
    each_way: bool


def wager_type(name: str) -> WagerType | None:
    """'Each Way Single' → (single, True); 'Lucky 15' → (lucky15, False); None when not a known wager."""
    text = " ".join(name.lower().split())
    if text in ("each way", "each-way", "e/w", "ew", "eachway"):
        return WagerType(BetType.single, True)
    each_way = False
    stripped = _EACH_WAY.sub("", text)
    if stripped != text:
        each_way, text = True, stripped
    key = re.sub(r"[\s.\-]", "", text)
    bet_type = _NAMES.get(key)
    if bet_type is None:
        return None
    return WagerType(bet_type, each_way)
