"""SMS wager text: the common forms become a bet; anything uncertain is None (never a wrong stake)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain.sms_wager import parse_sms_text

H, G = "horse_racing", "greyhounds"
# text → (unit stake, each-way, total stake, selection, meeting, race time, price, sport)
PARSED = {
    "£5 win Sea Bird 14:30 Ascot": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "5 pounds e/w Sea Bird 2.30 Ascot 9/2": ("5", True, "10", "Sea Bird", "Ascot", "14:30", "9/2", H),
    "£10 each way Kauto Star at 7/2 Kempton 15:05": ("10", True, "20", "Kauto Star", "Kempton", "15:05", "7/2", H),
    "£2.50 Trap 3 19:47 Romford @ evs": ("2.50", False, "2.50", "Trap 3", "Romford", "19:47", "evs", G),
    "£5 Sea Bird at 2.30 Ascot": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "£5 win 14:30 Ascot Sea Bird": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "£5 win Ascot 14:30 Sea Bird": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "£5 win Sea Bird Ascot 14:30": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "£5 win Sea Bird 14:30 Ascot at 5.5": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "5.5", H),
    "£5 win Sea Bird at 3.15 14:30 Ascot": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "3.15", H),
    "50p ew Look At Me 3.15 Kempton Park": ("0.50", True, "1", "Look At Me", "Kempton", "15:15", "SP", H),
    "£5 win Ascot Lad 14:30 Kempton": ("5", False, "5", "Ascot Lad", "Kempton", "14:30", "SP", H),
    "£1,000 win Frankel 3.35pm Newmarket SP": ("1000", False, "1000", "Frankel", "Newmarket", "15:35", "SP", H),
    "£3 win Swift Blue 8.04pm Romford": ("3", False, "3", "Swift Blue", "Romford", "20:04", "SP", G),
    "£20 win on Sea Bird 11.05 Ayr 2/1": ("20", False, "20", "Sea Bird", "Ayr", "11:05", "2/1", H),
    "  £5   WIN   sea bird   14:30   ascot. ": ("5", False, "5", "sea bird", "Ascot", "14:30", "SP", H),
    "Â£5 win Sea Bird 14:30 Ascot": ("5", False, "5", "Sea Bird", "Ascot", "14:30", "SP", H),
    "10 quid each-way Sea Bird (IRE) 14:30 Sandown": ("10", True, "20", "Sea Bird (IRE)", "Sandown", "14:30", "SP", H),
}  # fmt: skip

NOT_PARSED = [
    "5 win Sea Bird 14:30 Ascot",  # a bare number is not a stake
    "£5 win Sea Bird 14:30 Fakenhm",  # not a known meeting
    "£5 win Sea Bird",  # no race
    "£5 win Sea Bird 14:30 Ascot 9/2 5/1",  # two prices
    "£5 double Sea Bird and Kauto Star",
    "£5 double Sea Bird 14:30 Ascot",
    "£5 win Sea Bird 14:30 Ascot and Kauto Star",
    "£5 win Sea Bird 14:30 15:00 Ascot",  # two times
    "£5 win Sea Bird at 5.50 2.30 Ascot",  # 'at 5.50' could be the time as well as the price
    "£5.555 win Sea Bird 14:30 Ascot",
    "£0 win Sea Bird 14:30 Ascot",
    "£5 win Sea Bird 25:30 Ascot",
    "£5 win Sea Bird 14:75 Ascot",
    "£5 win Sea B1rd 14:30 Ascot",
    "£5 win Ascot 14:30 Kempton",  # which is the course?
    "can i have a fiver on the favourite in the 3.15 please",
    "£5 win Sea Bird 14:30 Ascot @ 0.5",
    "£5 win Sea Bird 14:30 Ascot @x",
    "",
    "£" * 600,
]


@pytest.mark.parametrize("text", sorted(PARSED))
def test_common_forms(text: str) -> None:
    unit, ew, stake, selection, meeting, race_time, price, sport = PARSED[text]
    bet = parse_sms_text(text)
    assert bet is not None
    assert (bet.unit_stake, bet.each_way, bet.stake) == (Decimal(unit), ew, Decimal(stake))
    assert (bet.selection, bet.meeting, bet.race_time, bet.price, bet.sport) == (
        selection, meeting, race_time, price, sport,
    )  # fmt: skip
    assert bet.event == f"{race_time} {meeting}"
    assert bet.selection_fields() == {"event": bet.event, "market": "win", "selection": selection, "price": price}


@pytest.mark.parametrize("text", NOT_PARSED)
def test_uncertain_texts_are_left_for_staff(text: str) -> None:
    assert parse_sms_text(text) is None


def test_stakes_keep_pence_exactly() -> None:
    bet = parse_sms_text("£2.50 e/w Sea Bird 14:30 Ascot")
    assert bet is not None and bet.stake == Decimal("5.00") and str(bet.stake) == "5.00"
