"""Every path of the bet-file parsers: decoding, the three formats, and each refusal naming its line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.betfiles import (
    RECORD_ADAPTER,
    BetFileError,
    Knockback,
    SmsWager,
    WebsiteBet,
    normalise_mobile,
    parse_bet_file,
)
from chalicelib.domain.betfiles.render import render
from chalicelib.domain.betfiles.wager_names import wager_type
from chalicelib.domain.bets import BetType

SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"

BET = """Wager Number - 1234567 / Customer Reference - ABC123 / Customer Risk Category - W
Bet placed on 01/05/2025 14:02:11
Ascot, 14:30, - Sea Bird at 5.5
Bets Win Only: 1 Single. Unit Stake: £10.00, Payment: £10.00.
Wagers : 1 x £10.00 : Single
"""

KNOCKBACK = """Knockback Details: KB-1
Customer Ref: ABC123
- Error Message: Maximum liability exceeded
- Liability Exceeded: True
- Maximum stake available: £2.50
01/05/2025 14:02:11
- Meeting Name: Ascot
- Selection Name: Sea Bird
- Bet Price: 5.5
- Wager Name: Single
- Total Stake: £50.00
"""

SMS = """Wager Number = 5550123
Customer Reference: ABC123
Mobile Number: 07700 900123
SMS Wager Text: £5 win Sea Bird 14:30 Ascot
"""


def parse(text: str, encoding: str = "utf-8") -> WebsiteBet | Knockback | SmsWager:
    return parse_bet_file(text.encode(encoding))


def error(text: str | bytes) -> BetFileError:
    with pytest.raises(BetFileError) as err:
        parse_bet_file(text.encode() if isinstance(text, str) else text)
    return err.value


def website(text: str) -> WebsiteBet:
    record = parse(text)
    assert isinstance(record, WebsiteBet)
    return record


def multiple(selections: list[str], bets_line: str, wagers: str) -> str:
    head = BET.splitlines()[:2]
    return "\n".join([*head, *selections, bets_line, f"Wagers : {wagers}"]) + "\n"


LEGS = [f"{course}, 1{i}:00, - Horse {chr(65 + i)} at {i + 2}/1" for i, course in enumerate(
    ["Ascot", "Ayr", "York", "Bath", "Ripon", "Perth", "Kelso", "Thirsk"]
)]  # fmt: skip


# --- decoding and the file as a whole ---------------------------------------------------------------


def test_over_size_files_are_refused() -> None:
    err = error(BET.encode() + b" " * 70_000)
    assert err.line is None and "over the 65,536-byte limit" in err.message
    assert isinstance(parse_bet_file(BET.encode(), max_bytes=len(BET.encode())), WebsiteBet)
    assert "over the 10-byte limit" in error_with_limit(BET.encode(), 10).message


def error_with_limit(data: bytes, limit: int) -> BetFileError:
    with pytest.raises(BetFileError) as err:
        parse_bet_file(data, max_bytes=limit)
    return err.value


@pytest.mark.parametrize("data", [b"", b"   \r\n\n\t  "])
def test_empty_files(data: bytes) -> None:
    assert error(data).message == "file is empty"


def test_nul_bytes_mean_binary() -> None:
    assert error(BET.encode() + b"\x00").message == "not a text file (it contains NUL bytes)"


def test_control_characters_name_their_line() -> None:
    err = error(BET.replace("Ascot, 14:30", "Ascot\x07, 14:30"))
    assert (err.line, err.message) == (3, "not a text file (control character U+0007)")


def test_bytes_neither_utf8_nor_cp1252_fall_back_to_latin1_and_are_refused_as_binary() -> None:
    # 0x81 is undefined in cp1252; in latin-1 it is a C1 control character
    err = error(BET.encode("cp1252").replace(b"Sea Bird", b"Sea\x81Bird"))
    assert err.line == 3 and "control character U+0081" in err.message


def test_utf16_with_a_bom() -> None:
    assert isinstance(parse_bet_file(BET.encode("utf-16")), WebsiteBet)


def test_the_pound_sign_in_every_spelling() -> None:
    for pound in ("£", "Â£", "&pound;", "GBP "):
        assert website(BET.replace("£", pound)).stake == Decimal("10.00")
    assert website(BET.replace("£", "")).stake == Decimal("10.00")  # the files carry no other currency
    assert isinstance(parse(BET, "cp1252"), WebsiteBet)


def test_other_currencies_are_refused() -> None:
    err = error(BET.replace("Unit Stake: £10.00", "Unit Stake: €10.00"))
    assert (err.line, err.message) == (4, "unit stake '€10.00' is not in pounds")


def test_mac_line_endings_and_blank_lines_keep_line_numbers() -> None:
    text = BET.replace("\n", "\r\r").replace("£1", "£X1")
    err = error(text)
    assert err.line == 7  # the bets line is the 4th of 5, each followed by a blank one


def test_detection_order_knockback_then_sms_then_bet() -> None:
    err = error(KNOCKBACK + "SMS Wager Text: hello\n")
    assert (err.line, err.message) == (12, "unrecognised line 'SMS Wager Text: hello'")
    assert isinstance(parse(KNOCKBACK), Knockback)
    assert isinstance(parse(SMS), SmsWager)
    assert isinstance(parse(BET), WebsiteBet)
    # a knockback label anywhere wins: the file is then read (and refused) as a knockback
    err = error(SMS + "Knockback Details: KB-9\n")
    assert err.line == 1 and "unrecognised line" in err.message


def test_non_bytes_input_is_a_bet_file_error() -> None:
    with pytest.raises(BetFileError):
        parse_bet_file("text")  # type: ignore[arg-type]


def test_records_round_trip_through_json_by_kind() -> None:
    for text in (BET, KNOCKBACK, SMS):
        record = parse(text)
        again = RECORD_ADAPTER.validate_json(RECORD_ADAPTER.dump_json(record))
        assert again == record and type(again) is type(record)


def _renderable_samples() -> list[Path]:
    out = []
    for path in sorted(SAMPLES.iterdir()):
        try:
            record = parse_bet_file(path.read_bytes())
        except BetFileError:
            continue
        # the repeated autumn hour prints the same for both readings, so it cannot come back exactly
        if not (isinstance(record, WebsiteBet) and record.placed_at_ambiguous):
            out.append(path)
    return out


@pytest.mark.parametrize("path", _renderable_samples(), ids=lambda p: p.name)
def test_good_samples_render_back_to_the_same_record(path: Path) -> None:
    record = parse_bet_file(path.read_bytes())
    assert parse_bet_file(render(record).encode()) == record


def test_most_good_samples_are_rendered() -> None:
    assert len(_renderable_samples()) >= 14


# --- website bets ------------------------------------------------------------------------------------


def test_header_fields_on_their_own_lines() -> None:
    text = BET.replace(" / ", "\n")
    record = website(text)
    assert (record.wager_number, record.customer_ref, record.risk_category) == ("1234567", "ABC123", "W")


def test_risk_category_is_optional() -> None:
    assert website(BET.replace(" / Customer Risk Category - W", "")).risk_category is None


def test_risk_category_must_be_a_letter() -> None:
    err = error(BET.replace("Category - W", "Category - WW"))
    assert (err.line, err.message) == (1, "customer risk category 'WW' is not a single letter")


def test_a_label_given_twice() -> None:
    err = error(BET + "Customer Reference - XYZ\n")
    assert (err.line, err.message) == (6, "'Customer Reference' is given twice (first on line 1)")


def test_a_label_with_no_value() -> None:
    err = error(BET.replace("Customer Reference - ABC123", "Customer Reference -"))
    assert (err.line, err.message) == (1, "'Customer Reference' has no value")


def test_wager_number_must_be_an_id() -> None:
    err = error(BET.replace("1234567", "12#34"))
    assert err.line == 1 and err.message.startswith("Wager Number '12#34' is not an id")


def test_unrecognised_lines_are_refused() -> None:
    err = error(BET + "Promo code: SPRING\n")
    assert (err.line, err.message) == (6, "unrecognised line 'Promo code: SPRING'")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("01/05/2025 14:02:11", "31/04/2025 14:02:11", 2, "is not a real date and time"),
        ("01/05/2025 14:02:11", "2025-05-01 14:02", 2, "is not dd/mm/yyyy HH:MM:SS"),
        ("at 5.5", "at 0.5", 3, "price of Sea Bird '0.5': decimal odds must be above 1.0"),
        ("at 5.5", "at five", 3, "price of Sea Bird 'five'"),
        ("Ascot, 14:30,", "Ascot, 14:30, 15:00,", 3, "has more than one race time"),
        ("Win Only", "Place Only", 4, "bets 'Place Only' is not Win Only, Each Way or a forecast"),
        ("1 Single", "one Single", 4, "number of bets 'one' is not a whole number"),
        ("Unit Stake: £10.00, Payment: £10.00", "Unit Stake: £0.00, Payment: £0.00", 4, "greater than zero"),
        ("Payment: £10.00", "Payment: £10.001", 4, "payment '£10.001' is not an amount"),
        ("1 x £10.00 : Single", "Round Robin", 5, "wager type 'Round Robin' is not a bet type betwatch knows"),
        ("1 x £10.00 : Single", "1 x £10.00 :", 5, "'Wagers' names no bet type"),
        ("Wagers : 1 x £10.00 : Single", "Wagers : Each Way Single", 5, "the wager is Each Way Single but"),
        ("Bets Win Only", "Bets Forecast", 4, "a forecast bets line, but the wager is a Single"),
        ("Bets Win Only: 1 Single", "Bets Win Only: 2 Singles", 4, "2 bets, but a Single is 1"),
    ],
)
def test_website_bet_line_errors(old: str, new: str, line: int, message: str) -> None:
    text = BET.replace(old, new)
    assert text != BET
    err = error(text)
    assert err.line == line, err
    assert message in err.message, err


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (1, "missing 'Wager Number - …'"),
        (2, "missing 'Bet placed on dd/mm/yyyy HH:MM:SS'"),
        (3, "missing selection lines"),
        (4, "missing 'Bets Win Only: …. Unit Stake: …, Payment: ….'"),
        (5, "missing 'Wagers : …: Single' (the bet type)"),
    ],
)
def test_website_bet_missing_lines(drop: int, message: str) -> None:
    lines = BET.splitlines()
    if drop == 1:
        lines[0] = "Customer Reference - ABC123"
    else:
        del lines[drop - 1]
    err = error("\n".join(lines))
    assert err.line is None and err.message.startswith(message)


@pytest.mark.parametrize("spelling", ["Each Way", "Each-Way", "E/W", "EW", "each way"])
def test_each_way_bets_line_spellings(spelling: str) -> None:
    text = BET.replace("Bets Win Only", f"Bets {spelling}").replace("Payment: £10.00", "Payment: £20.00")
    record = website(text)
    assert (record.each_way, record.lines, record.stake, record.unit_stake) == (True, 2, 20, 10)


def test_a_second_bets_or_wagers_or_placed_line() -> None:
    lines = BET.splitlines()
    assert error("\n".join([*lines, lines[3]])).message == "a second bets line (first on line 4)"
    assert error("\n".join([*lines, lines[4]])).message == "a second 'Wagers' line (first on line 5)"
    assert "given twice (first on line 2)" in error("\n".join([*lines, lines[1]])).message


@pytest.mark.parametrize(
    ("wagers", "n", "count", "bet_type", "lines"),
    [
        ("Double", 2, 1, BetType.double, 1),
        ("Treble", 3, 1, BetType.treble, 1),
        ("5 Fold", 5, 1, BetType.accumulator, 1),
        ("Accumulator", 8, 1, BetType.accumulator, 1),
        ("Trixie", 3, 4, BetType.trixie, 4),
        ("Patent", 3, 7, BetType.patent, 7),
        ("Yankee", 4, 11, BetType.yankee, 11),
        ("Lucky 15", 4, 15, BetType.lucky15, 15),
        ("Super Yankee", 5, 26, BetType.canadian, 26),
        ("Lucky-31", 5, 31, BetType.lucky31, 31),
        ("Heinz", 6, 57, BetType.heinz, 57),
        ("Lucky 63", 6, 63, BetType.lucky63, 63),
        ("Super Heinz", 7, 120, BetType.super_heinz, 120),
        ("Goliath", 8, 247, BetType.goliath, 247),
    ],
)
def test_multiples_and_full_cover(wagers: str, n: int, count: int, bet_type: BetType, lines: int) -> None:
    text = multiple(LEGS[:n], f"Bets Win Only: {count} Bets. Unit Stake: £0.50, Payment: £{count * 0.5:.2f}.", wagers)
    record = website(text)
    assert (record.bet_type, record.lines, record.stake) == (bet_type, lines, Decimal(f"{count * 0.5:.2f}"))


def test_each_way_yankee_doubles_the_lines() -> None:
    text = multiple(LEGS[:4], "Bets Each Way: 11 Bets. Unit Stake: £1.00, Payment: £22.00.", "Each Way Yankee")
    record = website(text)
    assert (record.bet_type, record.each_way, record.lines, record.stake) == (BetType.yankee, True, 22, 22)


def test_reverse_forecast_and_tricast() -> None:
    legs = ["York, 15:00, - A at SP", "York, 15:00, - B at SP", "York, 15:00, - C at SP"]
    rf = website(
        multiple(legs[:2], "Bets Forecast: 2 Forecasts. Unit Stake: £1.00, Payment: £2.00.", "Reverse Forecast")
    )
    assert (rf.bet_type, rf.lines) == (BetType.reverse_forecast, 2)
    tc = website(multiple(legs, "Bets Tricast: 1 Tricast. Unit Stake: £1.00, Payment: £1.00.", "Tricast"))
    assert (tc.bet_type, tc.lines) == (BetType.tricast, 1)


def test_forecasts_must_be_one_race_and_win_only() -> None:
    legs = ["York, 15:00, - A at SP", "York, 15:30, - B at SP"]
    err = error(multiple(legs, "Bets Forecast: 1 Forecast. Unit Stake: £1.00, Payment: £1.00.", "Forecast"))
    assert (err.line, err.message) == (4, "a Forecast's selections must all be in the same race")
    legs[1] = "York, 15:00, - B at SP"
    err = error(multiple(legs, "Bets Each Way: 1 Forecast. Unit Stake: £1.00, Payment: £2.00.", "Forecast"))
    assert (err.line, err.message) == (5, "a Forecast cannot be each-way")


def test_events_without_a_race_time_are_other_sports() -> None:
    text = BET.replace("Ascot, 14:30, - Sea Bird at 5.5", "Premier League, Arsenal v Spurs, - Arsenal at 2.1")
    record = website(text)
    (sel,) = record.selections
    assert (sel.event, sel.race_time, sel.sport, record.sport) == (
        "Premier League, Arsenal v Spurs",
        None,
        "other",
        "other",
    )


def test_mixed_sports_in_a_multiple() -> None:
    legs = [LEGS[0], "Romford, 19:47, - Trap 3 Swift Blue at 7/2"]
    record = website(multiple(legs, "Bets Win Only: 1 Double. Unit Stake: £1.00, Payment: £1.00.", "Double"))
    assert record.sport == "mixed"


def test_wager_type_spellings() -> None:
    assert wager_type("Each Way Single") == (BetType.single, True)
    assert wager_type("Single E/W") == (BetType.single, True)
    assert wager_type("each-way") == (BetType.single, True)
    assert wager_type("LUCKY 15") == (BetType.lucky15, False)
    assert wager_type("Dual Forecast") == (BetType.reverse_forecast, False)
    assert wager_type("Round Robin") is None


# --- knockbacks -------------------------------------------------------------------------------------


def knockback(text: str) -> Knockback:
    record = parse(text)
    assert isinstance(record, Knockback)
    return record


@pytest.mark.parametrize(("value", "expected"), [("N/A", None), ("0", 0), ("£0.00", 0), ("£1,000", 100000)])
def test_knockback_max_stake(value: str, expected: int | None) -> None:
    assert knockback(KNOCKBACK.replace("£2.50", value)).max_stake_minor == expected


def test_knockback_max_stake_may_be_absent() -> None:
    assert knockback(KNOCKBACK.replace("- Maximum stake available: £2.50\n", "")).max_stake_minor is None


def test_knockback_unknown_wager_name_is_kept() -> None:
    kb = knockback(KNOCKBACK.replace("Wager Name: Single", "Wager Name: Round Robin"))
    assert (kb.wager_name, kb.bet_type) == ("Round Robin", None)


def test_knockback_labelled_date_time() -> None:
    kb = knockback(KNOCKBACK.replace("01/05/2025 14:02:11", "Date/Time: 01/01/2025 09:00:00"))
    assert kb.attempted_at.isoformat() == "2025-01-01T09:00:00+00:00"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("- Meeting Name: Ascot\n", "", 7, "'Selection Name' before any 'Meeting Name'"),
        (
            "- Bet Price: 5.5",
            "- Bet Price: 5.5\n- Bet Price: 6.0",
            10,
            "'Bet Price' twice in the block starting on line 7",
        ),
        ("- Bet Price: 5.5", "- Bet Price: 1/0", 9, "bet price '1/0'"),
        ("£50.00", "fifty", 11, "total stake 'fifty' is not an amount"),
        ("£2.50", "lots", 5, "maximum stake available 'lots' is not an amount"),
        ("01/05/2025 14:02:11", "01/05/2025 14:02:11\n02/05/2025 14:02:11", 7, "a second date/time (first on line 6)"),
        ("KB-1", "KB 1", 1, "is not an id"),
        ("- Meeting Name: Ascot", "- Meeting Name:", 7, "'Meeting Name' has no value"),
    ],
)
def test_knockback_line_errors(old: str, new: str, line: int, message: str) -> None:
    err = error(KNOCKBACK.replace(old, new))
    assert err.line == line, err
    assert message in err.message, err


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("Customer Ref", "missing 'Customer Ref: …'"),
        ("- Error Message", "missing '- Error Message: …'"),
        ("- Liability Exceeded", "missing '- Liability Exceeded: True|False'"),
        ("- Wager Name", "missing '- Wager Name: …'"),
        ("- Total Stake", "missing '- Total Stake: …'"),
        ("01/05", "missing the date/time"),
        ("- Meeting", "missing selections"),
    ],
)
def test_knockback_missing_fields(label: str, message: str) -> None:
    lines = [ln for ln in KNOCKBACK.splitlines() if not ln.startswith(label)]
    if label == "- Meeting":
        lines = [ln for ln in lines if not ln.startswith(("- Selection", "- Bet Price"))]
    err = error("\n".join(lines))
    assert err.line is None and err.message.startswith(message)


# --- SMS wagers -------------------------------------------------------------------------------------


def sms(text: str) -> SmsWager:
    record = parse(text)
    assert isinstance(record, SmsWager)
    return record


def test_sms_text_continues_until_the_next_label() -> None:
    text = SMS.replace(
        "SMS Wager Text: £5 win Sea Bird 14:30 Ascot\n", "SMS Wager Text:\n£5 win Sea Bird\n14:30 Ascot\n"
    )
    record = sms(text)
    assert record.text == "£5 win Sea Bird\n14:30 Ascot"
    assert record.parsed is not None and record.parsed.selection == "Sea Bird"  # the lines are read as one


def test_sms_text_before_other_labels() -> None:
    lines = SMS.splitlines()
    record = sms("\n".join([lines[3], "please confirm", *lines[:3]]))
    assert record.text == "£5 win Sea Bird 14:30 Ascot\nplease confirm"


def test_sms_empty_and_missing_text() -> None:
    err = error(SMS.replace("£5 win Sea Bird 14:30 Ascot", ""))
    assert (err.line, err.message) == (4, "the SMS wager text is empty")
    err = error(SMS.replace("SMS Wager Text: ", "SMS Wager Text: x\nCustomer Reference: B\n"))
    assert "given twice" in err.message


def test_sms_unrecognised_line_before_the_text() -> None:
    err = error("Promo: yes\n" + SMS)
    assert (err.line, err.message) == (1, "unrecognised line 'Promo: yes'")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("447700900123", "+447700900123"),
        ("+353 87 123 4567", "+353871234567"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("07700 9001", None),
        ("+44 7700 900123 99", None),
        ("call me", None),
        ("+0 123 456 789", None),
    ],
)
def test_mobile_numbers(raw: str, expected: str | None) -> None:
    assert normalise_mobile(raw) == expected


def test_overlong_lines_are_refused_before_any_pattern_sees_them() -> None:
    err = error(BET + "x" * 2001 + "\n")
    assert (err.line, err.message) == (6, "line is over 2,000 characters")


def test_junk_lines_cost_linear_time() -> None:
    import time

    junk = "\n".join(["a - a at " * 200, "a - " * 490, "Bets Win: 1 " + "x unit stake " * 150] * 10)
    start = time.perf_counter()
    error(BET.replace("Ascot, 14:30", junk.split("\n")[0]) + junk)
    for line in junk.split("\n")[:3]:
        error(BET + line)
    assert time.perf_counter() - start < 1.0
