"""Bets as the business knows them: channels, bet types and their shapes (pure Python)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    online = "online"
    retail = "retail"
    sms = "sms"


class BetType(StrEnum):
    single = "single"
    each_way = "each_way"
    double = "double"
    treble = "treble"
    accumulator = "accumulator"
    forecast = "forecast"
    reverse_forecast = "reverse_forecast"
    tricast = "tricast"
    trixie = "trixie"
    patent = "patent"
    yankee = "yankee"
    lucky15 = "lucky15"
    canadian = "canadian"
    lucky31 = "lucky31"
    heinz = "heinz"
    lucky63 = "lucky63"
    super_heinz = "super_heinz"
    goliath = "goliath"


# Bet type -> (selections required (min, max), lines per unit stake).
BET_SHAPES: dict[BetType, tuple[tuple[int, int], int]] = {
    BetType.single: ((1, 1), 1),
    BetType.each_way: ((1, 1), 2),
    BetType.double: ((2, 2), 1),
    BetType.treble: ((3, 3), 1),
    BetType.accumulator: ((4, 20), 1),
    BetType.forecast: ((2, 2), 1),
    BetType.reverse_forecast: ((2, 2), 2),
    BetType.tricast: ((3, 3), 1),
    BetType.trixie: ((3, 3), 4),
    BetType.patent: ((3, 3), 7),
    BetType.yankee: ((4, 4), 11),
    BetType.lucky15: ((4, 4), 15),
    BetType.canadian: ((5, 5), 26),
    BetType.lucky31: ((5, 5), 31),
    BetType.heinz: ((6, 6), 57),
    BetType.lucky63: ((6, 6), 63),
    BetType.super_heinz: ((7, 7), 120),
    BetType.goliath: ((8, 8), 247),
}
