"""Every sample under tests/events/betfiles: what it parses to, or the line and problem it is refused for."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.betfiles import BetFileError, Knockback, SmsWager, WebsiteBet, parse_bet_file
from chalicelib.domain.bets import BetIn, BetType

SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"


def parse(name: str) -> WebsiteBet | Knockback | SmsWager:
    return parse_bet_file((SAMPLES / name).read_bytes())


def bet(name: str) -> WebsiteBet:
    record = parse(name)
    assert isinstance(record, WebsiteBet)
    return record


# name → (bet_type, each_way, lines, stake, placed_at UTC, sport, selections)
GOOD_BETS = {
    "bet_single_decimal.txt": (BetType.single, False, 1, "10.00", datetime(2025, 5, 1, 13, 2, 11), "horse_racing", 1),
    "bet_crlf_extra_spaces.txt": (BetType.single, False, 1, "2.50", datetime(2025, 5, 2, 8, 15), "horse_racing", 1),
    "bet_cp1252_pound.txt": (BetType.single, False, 1, "1250.00", datetime(2025, 5, 3, 15, 40), "horse_racing", 1),
    "bet_utf8_bom.txt": (BetType.single, False, 1, "20.00", datetime(2025, 5, 4, 12, 0), "horse_racing", 1),
    "bet_each_way_single.txt": (BetType.single, True, 2, "10.00", datetime(2025, 5, 5, 13, 20, 5), "horse_racing", 1),
    "bet_yankee_sp_evs.txt": (BetType.yankee, False, 11, "11.00", datetime(2025, 5, 6, 11, 1, 59), "horse_racing", 4),
    "bet_greyhound_trap.txt": (BetType.single, False, 1, "3.00", datetime(2025, 5, 7, 18, 40), "greyhounds", 1),
    "bet_forecast.txt": (BetType.forecast, False, 1, "2.00", datetime(2025, 5, 8, 14, 55), "horse_racing", 2),
    "bet_each_way_double.txt": (BetType.double, True, 2, "5.00", datetime(2025, 5, 9, 10, 11, 11), "horse_racing", 2),
    # 01:30 on the autumn change day happens twice: the first (BST) one is taken, and flagged
    "bet_clock_change_autumn.txt": (BetType.single, False, 1, "4.00", datetime(2025, 10, 26, 0, 30), "horse_racing", 1),
}

BAD_FILES = {
    "bet_bad_unit_stake.txt": (4, "unit stake '£1O.00' is not an amount"),
    "bet_payment_mismatch.txt": (4, "unit stake £10.00 × 2 lines = £20.00, but payment is £10.00"),
    "bet_missing_customer.txt": (None, "missing 'Customer Reference - …'"),
    "bet_truncated.txt": (4, "bets line 'Bets Win Only: 1 Single. Unit Sta' is not"),
    "bet_treble_wrong_count.txt": (6, "a treble takes 3 selections, the file has 2"),
    "bet_clock_change_spring_missing.txt": (2, "30/03/2025 01:30:00 does not exist in UK time"),
    "binary.bin": (None, "not a text file"),
    "knockback_bad_flag.txt": (4, "liability exceeded 'Maybe' is not True or False"),
    "knockback_block_without_price.txt": (7, "the selection block starting here has no 'Bet Price'"),
    "sms_bad_mobile.txt": (3, "mobile number is not a phone number"),
}


def test_every_sample_file_is_covered_here() -> None:
    covered = (
        set(GOOD_BETS)
        | set(BAD_FILES)
        | {p.name for p in SAMPLES.glob("knockback_*")}
        | {p.name for p in SAMPLES.glob("sms_*")}
    )
    assert {p.name for p in SAMPLES.iterdir()} == covered
    assert len(list(SAMPLES.iterdir())) >= 15


@pytest.mark.parametrize("name", sorted(GOOD_BETS))
def test_good_bet_files(name: str) -> None:
    bet_type, each_way, lines, stake, placed_at, sport, n = GOOD_BETS[name]
    record = bet(name)
    assert (record.bet_type, record.each_way, record.lines) == (bet_type, each_way, lines)
    assert record.stake == Decimal(stake)
    assert record.placed_at == placed_at.replace(tzinfo=UTC)
    assert record.placed_at.utcoffset() is not None and record.placed_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert record.sport == sport
    assert len(record.selections) == n
    assert record.placed_at_ambiguous is (name == "bet_clock_change_autumn.txt")


@pytest.mark.parametrize("name", sorted(GOOD_BETS))
def test_good_bet_files_validate_as_the_api_bet(name: str) -> None:
    record = bet(name)
    body = BetIn.model_validate(record.bet_fields())
    assert body.bet_id == record.wager_number
    assert body.customer_id == record.customer_ref
    assert body.stake_minor == record.stake_minor
    assert body.lines == record.lines
    assert body.channel.value == "online"
    assert [s.selection for s in body.selections] == [s.selection for s in record.selections]


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_name_the_line_and_problem(name: str) -> None:
    line, message = BAD_FILES[name]
    with pytest.raises(BetFileError) as err:
        parse(name)
    assert err.value.line == line
    assert message in err.value.message
    doc = err.value.as_dict()
    assert doc["line"] == line and message in doc["error"]
    assert doc["message"].startswith(f"line {line}: " if line else message[:10])


def test_single_decimal_in_full() -> None:
    record = bet("bet_single_decimal.txt")
    assert record.wager_number == "1234567"
    assert record.customer_ref == "ABC123"
    assert record.risk_category == "W"
    assert record.wager_name == "Single"
    assert record.unit_stake == Decimal("10.00")
    (sel,) = record.selections
    assert sel.event == "14:30 Ascot"
    assert (sel.meeting, sel.race_time, sel.selection, sel.price) == ("Ascot", "14:30", "Sea Bird", "5.5")
    assert sel.decimal_odds == Decimal("5.5")


def test_lower_case_labels_tabs_and_crlf() -> None:
    record = bet("bet_crlf_extra_spaces.txt")
    assert record.risk_category == "S"  # upper-cased
    (sel,) = record.selections
    assert (sel.meeting, sel.race_time, sel.selection, sel.price) == ("Kempton", "15:05", "Kauto Star", "7/2")


def test_yankee_prices_keep_sp_and_evens() -> None:
    record = bet("bet_yankee_sp_evs.txt")
    assert [s.price for s in record.selections] == ["3.0", "SP", "evs", "11/4"]
    assert [s.decimal_odds for s in record.selections] == [Decimal("3.0"), None, Decimal(2), Decimal("3.75")]
    # the last ' at ' splits off the price: a horse may be called 'Look At Me'
    assert record.selections[3].selection == "Look At Me"


def test_greyhound_trap_selection() -> None:
    (sel,) = bet("bet_greyhound_trap.txt").selections
    assert (sel.selection, sel.sport, sel.event) == ("Trap 3 Swift Blue", "greyhounds", "19:47 Romford")


def test_forecast_selections_in_finishing_order() -> None:
    record = bet("bet_forecast.txt")
    assert [s.selection for s in record.selections] == ["Sea Bird", "Blue Moon"]
    assert record.wager_name == "Straight Forecast"


def test_knockback_with_liability_and_offer() -> None:
    kb = parse("knockback_liability.txt")
    assert isinstance(kb, Knockback)
    assert kb.knockback_id == "KB-20250501-0042"
    assert kb.customer_ref == "ABC123"
    assert kb.error_message == "Maximum liability exceeded on selection"
    assert kb.liability_exceeded is True
    assert kb.max_stake_minor == 250
    assert kb.total_stake_minor == 5000
    assert kb.attempted_at == datetime(2025, 5, 1, 13, 2, 11, tzinfo=UTC)
    assert (kb.wager_name, kb.bet_type, kb.each_way) == ("Single", BetType.single, False)
    (sel,) = kb.selections
    assert (sel.meeting, sel.selection, sel.price, sel.event) == ("Ascot 14:30", "Sea Bird", "5.5", "14:30 Ascot")


def test_knockback_blocks_on_one_line_latin1_and_no_offer() -> None:
    kb = parse("knockback_crlf_two_blocks.txt")
    assert isinstance(kb, Knockback)
    assert kb.liability_exceeded is False
    assert kb.max_stake_minor is None
    # ' / ' inside a value that is not followed by a label stays in the value
    assert kb.error_message == "Stake factor applied / account restricted"
    assert [(s.meeting, s.selection, s.price) for s in kb.selections] == [
        ("Romford 21:04", "Trap 6 Quick Fox", "5/2"),
        ("Romford 21:20", "Trap 1 Slow Lane", "evs"),
    ]
    assert kb.total_stake_minor == 20000  # £ as the single byte 0xA3
    assert kb.attempted_at == datetime(2025, 7, 12, 19, 59, 30, tzinfo=UTC)
    assert kb.bet_type == BetType.double


def test_sms_parsed_into_a_bet() -> None:
    sms = parse("sms_parsed.txt")
    assert isinstance(sms, SmsWager)
    assert sms.mobile_number == "+447700900123"
    assert "+447700900123" not in repr(sms)  # personal data stays out of logs
    assert sms.masked_mobile == "+4477009•••••"
    assert sms.text == "£5 win Sea Bird 14:30 Ascot"
    assert sms.parsed is not None and sms.parsed.stake == Decimal("5.00")
    with pytest.raises(ValueError, match="received_at"):
        sms.bet_fields()
    received = datetime(2025, 5, 1, 13, 0, tzinfo=UTC)
    body = BetIn.model_validate(sms.bet_fields(received_at=received))
    assert body.channel.value == "sms"
    assert body.bet_id == "5550123"
    assert body.stake == Decimal("5.00")
    assert body.placed_at == received
    assert body.selections[0].event == "14:30 Ascot" and body.selections[0].price == "SP"


def test_sms_each_way_with_its_own_date() -> None:
    sms = parse("sms_each_way_price_dated.txt")
    assert isinstance(sms, SmsWager)
    assert sms.mobile_number == "+447700900124"  # '+44 (0)7700 …' without the trunk zero
    assert sms.received_at == datetime(2025, 5, 1, 13, 25, tzinfo=UTC)
    fields = sms.bet_fields()
    assert fields is not None
    body = BetIn.model_validate(fields)
    assert body.each_way is True and body.stake == Decimal("10.00") and body.lines == 2
    assert body.selections[0].price == "9/2"
    assert body.selections[0].event == "14:30 Ascot"


def test_sms_free_text_is_kept_for_staff() -> None:
    sms = parse("sms_unparsed_multiline.txt")
    assert isinstance(sms, SmsWager)
    assert sms.text == "can i have a fiver on the\nfavourite in the 3.15 please\ncheers Dave"
    assert sms.parsed is None
    assert sms.bet_fields(received_at=datetime(2025, 5, 1, tzinfo=UTC)) is None
    assert sms.mobile_number == "+447700900125"


def test_sms_cp1252_irish_mobile_each_way() -> None:
    sms = parse("sms_cp1252_each_way.txt")
    assert isinstance(sms, SmsWager)
    assert sms.mobile_number == "+353871234567"
    assert sms.parsed is not None
    assert (sms.parsed.selection, sms.parsed.meeting, sms.parsed.race_time) == ("Kauto Star", "Kempton", "15:05")
    assert (sms.parsed.each_way, sms.parsed.stake, sms.parsed.price) == (True, Decimal("20.00"), "7/2")


def test_bad_mobile_error_does_not_echo_the_number() -> None:
    data = (SAMPLES / "sms_bad_mobile.txt").read_bytes().replace(b"call me", b"07700 9001")
    with pytest.raises(BetFileError) as err:
        parse_bet_file(data)
    assert "9001" not in str(err.value)
