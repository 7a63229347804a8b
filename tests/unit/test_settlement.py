"""Settlement against hand-computed returns (pence). Each case's sum is worked in its comment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.bets import BET_SHAPES, BetType
from chalicelib.domain.results import EventResult, event_key, exact_odds, runner_key
from chalicelib.domain.settlement import FULL_COVER_MIN_FOLD, BetToSettle, Settlement, settle


def sel(event: str, selection: str, price: str) -> dict[str, str]:
    return {"event": event, "selection": selection, "price": price}


def bet(bet_type: str, stake_minor: int, *selections: dict[str, str], each_way: bool = False) -> BetToSettle:
    return BetToSettle.model_validate(
        {"bet_type": bet_type, "stake_minor": stake_minor, "each_way": each_way, "selections": list(selections)}
    )


def result(event: str, *positions: Any, **kw: Any) -> EventResult:
    return EventResult.model_validate({"event": event, "positions": list(positions), **kw})


def won(event: str, runner: str, **kw: Any) -> EventResult:
    return result(event, runner, "Also Ran", **kw)


def lost(event: str) -> EventResult:
    return result(event, "Someone Else")


QUARTER = {"places": 3, "fraction": "1/4"}
FIFTH = {"places": 4, "fraction": "1/5"}


# --- singles ----------------------------------------------------------------------------------------


def test_win_single_won_and_lost() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "5.5"))
    s = settle(b, [won("14:30 Ascot", "Sea Bird")])
    assert (s.state, s.returns_minor, s.profit_minor) == ("settled", 5500, 4500)  # £10 × 5.5
    assert s.legs[0].outcome == "won" and s.legs[0].position == 1
    s = settle(b, [lost("14:30 Ascot")])
    assert (s.state, s.returns_minor, s.profit_minor) == ("settled", 0, -1000)


def test_sp_single_is_settled_at_the_returned_sp() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "SP"))
    s = settle(b, [won("14:30 Ascot", "Sea Bird", starting_prices={"Sea Bird": "9/2"})])
    assert s.returns_minor == 5500  # £10 × (9/2 + 1)
    assert s.legs[0].at_sp is True and str(s.legs[0].odds) == "5.5000"


def test_legs_carry_the_sp_for_beats_sp_rules() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "7/1"))
    s = settle(b, [result("14:30 Ascot", "Other", "Sea Bird", starting_prices={"sea bird": "9/2"})])
    assert (s.legs[0].outcome, str(s.legs[0].starting_price), s.legs[0].odds) == ("lost", "5.5000", None)
    s = settle(b, [won("14:30 Ascot", "Sea Bird", starting_prices={"Sea Bird": "9/2"})])
    assert (str(s.legs[0].odds), str(s.legs[0].starting_price), s.legs[0].at_sp) == ("8.0000", "5.5000", False)


def test_sp_winner_without_an_sp_stays_open_but_an_sp_loser_settles() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "SP"))
    s = settle(b, [won("14:30 Ascot", "Sea Bird")])
    assert (s.state, s.returns_minor) == ("open", None)
    assert s.reasons == ["no starting price for Sea Bird in the result"]
    assert settle(b, [lost("14:30 Ascot")]).returns_minor == 0


def test_non_runner_single_returns_the_stake() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "5.5"))
    s = settle(b, [result("14:30 Ascot", "Other", non_runners=["Sea Bird"])])
    assert (s.state, s.returns_minor, s.profit_minor) == ("void", 1000, 0)
    assert s.legs[0].outcome == "void"


def test_no_result_stays_open() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "5.5"))
    s = settle(b, [won("15:00 Ascot", "Sea Bird")])
    assert (s.state, s.returns_minor, s.profit_minor) == ("open", None, None)
    assert s.reasons == ["no result for 14:30 Ascot"]


def test_events_and_runners_match_loosely() -> None:
    b = bet("single", 1000, sel("Ascot 14.30", "sea bird", "5.5"))
    s = settle(b, [won("14:30 Ascot", "Sea Bird (IRE)")])
    assert s.returns_minor == 5500
    assert event_key("Ascot, 14.30") == event_key("14:30 ascot") == "14:30 ascot"
    assert runner_key("O'Reilly's Gold (GB)") == runner_key("oreillys gold")


def test_a_runner_missing_from_a_declared_field_stays_open() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Brid", "5.5"))
    r = result("14:30 Ascot", "Sea Bird", runners=["Sea Bird", "Blue Moon"])
    s = settle(b, [r])
    assert s.state == "open" and "not among the runners" in s.reasons[0]
    assert settle(bet("single", 1000, sel("14:30 Ascot", "Blue Moon", "5.5")), [r]).returns_minor == 0


def test_dead_heat_for_the_win_halves_the_stake() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "5.0"))
    s = settle(b, [result("14:30 Ascot", ["Sea Bird", "Blue Moon"])])
    assert s.returns_minor == 2500  # £10 / 2 × 5.0
    assert s.legs[0].dead_heat == 2


# --- each-way ---------------------------------------------------------------------------------------


def test_each_way_at_a_quarter_the_odds() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "9/1"), each_way=True)  # £5 e/w
    second = result("14:30 Ascot", "A", "Sea Bird", "C", each_way=QUARTER)
    s = settle(b, [second])
    # win £5 lost; place £5 × (1 + 9 × 1/4) = £16.25
    assert (s.returns_minor, s.profit_minor) == (1625, 625)
    assert [(ln.part, ln.outcome, ln.returns_minor) for ln in s.lines] == [("win", "lost", 0), ("place", "won", 1625)]
    assert s.legs[0].outcome == "placed"
    first = result("14:30 Ascot", "Sea Bird", "B", "C", each_way=QUARTER)
    assert settle(b, [first]).returns_minor == 5000 + 1625  # £5 × 10 + £16.25
    fourth = result("14:30 Ascot", "A", "B", "C", "Sea Bird", each_way=QUARTER)
    assert settle(b, [fourth]).returns_minor == 0


def test_each_way_at_a_fifth_the_odds_four_places() -> None:
    b = bet("each_way", 2000, sel("14:30 Ascot", "Sea Bird", "6/1"))  # £10 e/w, the each_way bet type
    third = result("14:30 Ascot", "A", "B", "Sea Bird", "D", each_way=FIFTH)
    assert settle(b, [third]).returns_minor == 2200  # £10 × (1 + 6/5)
    first = result("14:30 Ascot", "Sea Bird", "B", "C", "D", each_way=FIFTH)
    assert settle(b, [first]).returns_minor == 7000 + 2200  # £10 × 7 + £22
    fourth = result("14:30 Ascot", "A", "B", "C", "Sea Bird", each_way=FIFTH)
    assert settle(b, [fourth]).returns_minor == 2200


def test_each_way_without_place_terms_returns_the_place_stake() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "9/1"), each_way=True)
    assert settle(b, [result("14:30 Ascot", "A", "Sea Bird")]).returns_minor == 500  # win lost, place £5 back
    assert settle(b, [result("14:30 Ascot", "A", "B", "C", "Sea Bird")]).returns_minor == 500
    assert settle(b, [result("14:30 Ascot", "Sea Bird")]).returns_minor == 5000 + 500


def test_each_way_dead_heat_for_the_last_place() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "9/1"), each_way=True)
    r = result("14:30 Ascot", "A", "B", ["Sea Bird", "D"], each_way=QUARTER)
    assert settle(b, [r]).returns_minor == 812  # £5 / 2 × 3.25 = £8.125, down to the penny


def test_each_way_dead_heat_for_the_win() -> None:
    b = bet("single", 1000, sel("14:30 Ascot", "Sea Bird", "9/1"), each_way=True)
    r = result("14:30 Ascot", ["Sea Bird", "B"], "C", each_way=QUARTER)
    # win: £5 / 2 × 10 = £25; place: both dead-heaters are within 3 places, so in full: £16.25
    assert settle(b, [r]).returns_minor == 2500 + 1625


# --- multiples --------------------------------------------------------------------------------------


def test_double_both_win_and_one_loses() -> None:
    b = bet("double", 1000, sel("14:30 Ascot", "A", "2.0"), sel("15:00 Ayr", "B", "3.0"))
    assert settle(b, [won("14:30 Ascot", "A"), won("15:00 Ayr", "B")]).returns_minor == 6000  # £10 × 2 × 3
    assert settle(b, [won("14:30 Ascot", "A"), lost("15:00 Ayr")]).returns_minor == 0


def test_treble_with_a_void_leg_pays_as_a_double() -> None:
    b = bet("treble", 1000, sel("14:30 Ascot", "A", "2.0"), sel("15:00 Ayr", "B", "3.0"), sel("16:00 York", "C", "4.0"))
    results = [won("14:30 Ascot", "A"), result("15:00 Ayr", "X", non_runners=["B"]), won("16:00 York", "C")]
    s = settle(b, results)
    assert (s.state, s.returns_minor) == ("settled", 8000)  # £10 × 2 × 1 × 4
    assert [leg.outcome for leg in s.legs] == ["won", "void", "won"]


def test_a_lost_leg_settles_a_multiple_before_the_other_legs_run() -> None:
    b = bet("treble", 1000, sel("14:30 Ascot", "A", "2.0"), sel("15:00 Ayr", "B", "3.0"), sel("16:00 York", "C", "4.0"))
    s = settle(b, [lost("14:30 Ascot")])
    assert (s.state, s.returns_minor) == ("settled", 0)
    s = settle(b, [won("14:30 Ascot", "A")])
    assert (s.state, s.returns_minor) == ("open", None)


def test_accumulator_rounds_down_to_the_penny() -> None:
    legs = [sel(f"1{i}:00 York", f"H{i}", "1/3") for i in range(4)]
    b = bet("accumulator", 100, *legs)
    s = settle(b, [won(f"1{i}:00 York", f"H{i}") for i in range(4)])
    assert s.returns_minor == 316  # £1 × (4/3)^4 = £3.1604…: exact fractions, then down to the penny


def test_each_way_double() -> None:
    b = bet("double", 500, sel("14:30 Ascot", "A", "5/1"), sel("15:00 Ayr", "B", "3/1"), each_way=True)
    results = [
        result("14:30 Ascot", "A", "x", "y", each_way=QUARTER),
        result("15:00 Ayr", "x", "B", "y", each_way=QUARTER),
    ]
    s = settle(b, results)
    # win double £2.50: B did not win → 0; place double £2.50 × (1 + 5/4) × (1 + 3/4) = £9.84375
    assert [(ln.part, ln.returns_minor) for ln in s.lines] == [("win", 0), ("place", 984)]
    assert s.returns_minor == 984


# --- full cover -------------------------------------------------------------------------------------

FOUR = [
    sel("13:00 York", "A", "2.0"),
    sel("13:30 York", "B", "3.0"),
    sel("14:00 York", "C", "4.0"),
    sel("14:30 York", "D", "5.0"),
]


def test_yankee_with_one_loser() -> None:
    b = bet("yankee", 1100, *FOUR)  # 11 × £1
    results = [won("13:00 York", "A"), won("13:30 York", "B"), won("14:00 York", "C"), lost("14:30 York")]
    s = settle(b, results)
    # doubles AB 6 + AC 8 + BC 12, treble ABC 24; the five lines with D lose: £50
    assert (s.returns_minor, s.profit_minor) == (5000, 3900)
    assert len(s.lines) == 11
    assert sum(1 for ln in s.lines if ln.outcome == "won") == 4


def test_lucky15_with_singles() -> None:
    b = bet("lucky15", 1500, *FOUR)  # 15 × £1
    results = [won("13:00 York", "A"), won("13:30 York", "B"), lost("14:00 York"), lost("14:30 York")]
    s = settle(b, results)
    # singles A 2 + B 3, double AB 6: £11
    assert (s.returns_minor, s.profit_minor) == (1100, -400)


def test_patent_all_winners_and_the_split_stake() -> None:
    three = FOUR[:3]
    results = [won("13:00 York", "A"), won("13:30 York", "B"), won("14:00 York", "C")]
    # singles 2+3+4, doubles 6+8+12, treble 24: 59 units
    assert settle(bet("patent", 700, *three), results).returns_minor == 5900
    # trixie: doubles + treble = 50 units
    assert settle(bet("trixie", 400, *three), results).returns_minor == 5000
    # £10 over 7 lines is 142.857…p a line: each line is rounded down on its own
    s = settle(bet("patent", 1000, *three), results)
    assert s.returns_minor == sum(int(1000 * x / 7) for x in (2, 3, 4, 6, 8, 12, 24))


def _subsets_product_sum(odds: list[int], smallest: int) -> int:
    from itertools import combinations
    from math import prod

    return sum(prod(c) for k in range(smallest, len(odds) + 1) for c in combinations(odds, k))


FULL_COVER = sorted(FULL_COVER_MIN_FOLD, key=lambda t: BET_SHAPES[t][1])  # type: ignore[index]


@pytest.mark.parametrize("bet_type", FULL_COVER)
def test_every_full_cover_bet_is_every_line(bet_type: BetType) -> None:
    (n, _), lines = BET_SHAPES[bet_type]
    legs = [sel(f"{10 + i}:00 York", f"H{i}", "2.0") for i in range(n)]
    results = [won(f"{10 + i}:00 York", f"H{i}") for i in range(n)]
    s = settle(bet(bet_type.value, lines * 100, *legs), results)
    assert len(s.lines) == lines
    smallest = FULL_COVER_MIN_FOLD[bet_type]
    assert s.returns_minor == 100 * _subsets_product_sum([2] * n, smallest)
    s = settle(bet(bet_type.value, lines * 200, *legs, each_way=True), results)
    assert len(s.lines) == 2 * lines


# --- forecasts --------------------------------------------------------------------------------------


def test_straight_forecast() -> None:
    b = bet("forecast", 200, sel("16:10 Doncaster", "A", "SP"), sel("16:10 Doncaster", "B", "SP"))
    r = result("16:10 Doncaster", "A", "B", "C", forecast_dividend="23.45")
    assert settle(b, [r]).returns_minor == 4690  # £2 × 23.45
    assert settle(b, [result("16:10 Doncaster", "B", "A", forecast_dividend="8.10")]).returns_minor == 0
    s = settle(b, [result("16:10 Doncaster", "A", "B")])
    assert s.state == "open" and s.reasons == ["no forecast dividend in the result of 16:10 Doncaster"]
    s = settle(b, [result("16:10 Doncaster", "A", "C", non_runners=["B"])])
    assert (s.state, s.returns_minor) == ("void", 200)
    s = settle(b, [result("16:10 Doncaster", ["A", "B"], forecast_dividend="5")])
    assert s.state == "open" and "dead heat" in s.reasons[0]
    assert settle(b, [result("16:10 Doncaster", "C", ["D", "E"])]).returns_minor == 0  # neither placed


def test_reverse_forecast_and_tricast() -> None:
    two = [sel("16:10 Doncaster", "A", "SP"), sel("16:10 Doncaster", "B", "SP")]
    s = settle(bet("reverse_forecast", 200, *two), [result("16:10 Doncaster", "B", "A", forecast_dividend="23.45")])
    assert s.returns_minor == 2345 and [ln.outcome for ln in s.lines] == ["lost", "won"]
    three = [*two, sel("16:10 Doncaster", "C", "SP")]
    r = result("16:10 Doncaster", "A", "B", "C", tricast_dividend="101.20")
    assert settle(bet("tricast", 100, *three), [r]).returns_minor == 10120


# --- the bet and the result as inputs --------------------------------------------------------------


def test_settling_twice_gives_the_same_settlement() -> None:
    b = bet("yankee", 1100, *FOUR)
    results = [won("13:00 York", "A"), won("13:30 York", "B"), won("14:00 York", "C"), lost("14:30 York")]
    first = settle(b, results)
    assert settle(b, results) == first
    assert settle(b, list(reversed(results))) == first
    assert settle(b, {r.event: r for r in results}) == first
    assert Settlement.model_validate_json(first.model_dump_json()) == first


def test_a_stored_bet_dump_settles() -> None:
    from chalicelib.domain.bets import Bet, Channel, RiskAssessment, Selection

    stored = Bet(
        bet_id="B-1", customer_id="C1", shop_id=None, channel=Channel.online, stake_minor=1000, currency="GBP",
        bet_type=BetType.single, each_way=True, lines=2,
        selections=[Selection(event="14:30 Ascot", market="win", selection="Sea Bird", price="9/1", decimal_odds=10.0)],
        sport="horse_racing", placed_at=datetime(2025, 5, 1, tzinfo=UTC), received_at=datetime(2025, 5, 1, tzinfo=UTC),
        potential_return_minor=None,
        risk=RiskAssessment(score=1, level="low", signals=[], recommendation="accept", model_version="t"),
    )  # fmt: skip
    b = BetToSettle.model_validate(stored.model_dump())
    s = settle(b, [result("14:30 Ascot", "A", "Sea Bird", each_way=QUARTER)])
    assert (s.bet_id, s.returns_minor) == ("B-1", 1625)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lines": 3}, "lines is 3, but a single has 2"),
        ({"bet_type": "double"}, "a double takes 2-2 selections, got 1"),
        ({"stake_minor": 0}, "greater than 0"),
        ({"selections": [sel("x", "y", "0.5")]}, "decimal odds must be above 1.0"),
    ],
)
def test_bets_that_cannot_be_settled(fields: dict[str, Any], message: str) -> None:
    base = {"bet_type": "single", "each_way": True, "stake_minor": 1000, "selections": [sel("x", "y", "2.0")]}
    with pytest.raises(ValidationError, match=message):
        BetToSettle.model_validate({**base, **fields})


def test_each_way_forecasts_are_refused() -> None:
    two = [sel("16:10 Doncaster", "A", "SP"), sel("16:10 Doncaster", "B", "SP")]
    with pytest.raises(ValidationError, match="cannot be each-way"):
        bet("forecast", 200, *two, each_way=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"positions": ["A", "A"]}, "A finishes twice"),
        ({"positions": ["A"], "non_runners": ["a"]}, "a is also placed"),
        ({"positions": ["A"], "starting_prices": {"A": "SP"}}, "cannot be 'SP'"),
        ({"positions": ["A"], "each_way": {"places": 3, "fraction": "a quarter"}}, "not of the form '1/4'"),
        ({"positions": ["A"], "each_way": {"places": 3, "fraction": "5/4"}}, "at most 1"),
        ({"positions": [[]]}, "a position with no runners"),
        ({"positions": []}, "at least 1"),
    ],
)
def test_bad_results(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventResult.model_validate({"event": "14:30 Ascot", **fields})


def test_result_positions_after_a_dead_heat() -> None:
    r = result("14:30 Ascot", "A", ["B", "C"], "D")
    assert r.placing("D") == (4, 1)  # two share 2nd, so the next is 4th
    assert r.placing("c") == (2, 2)
    assert r.placing("Z") is None


def test_exact_odds() -> None:
    from fractions import Fraction

    assert exact_odds("1/3") == Fraction(4, 3)
    assert exact_odds("evs") == 2
    assert exact_odds("5.5") == Fraction(11, 2)
    assert exact_odds("SP") is None


def test_result_files() -> None:
    from chalicelib.domain.results import ResultFileError, parse_result_file

    one = b'{"event": "14:30 Ascot", "positions": ["A", "B"], "each_way": {"places": 2, "fraction": "1/4"}}'
    (r,) = parse_result_file(b"\xef\xbb\xbf" + one)
    assert r.each_way is not None and r.each_way.places == 2
    assert len(parse_result_file(b"[" + one + b"," + one.replace(b"14:30", b"15:00") + b"]")) == 2
    with pytest.raises(ResultFileError, match=r"^not a JSON document"):
        parse_result_file(b"{oops")
    with pytest.raises(ResultFileError, match=r"^1\.positions: Value error|^1\.positions: "):
        parse_result_file(b"[" + one + b', {"event": "x", "positions": []}]')
    with pytest.raises(ResultFileError, match=r"^each_way\.fraction: "):
        parse_result_file(one.replace(b"1/4", b"half"))
