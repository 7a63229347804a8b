"""Property and fuzz tests on a fixed budget (derandomized: the same examples on every run, ~10 s in all).

- the parsers raise nothing but their own error on any input;
- generated valid records print and parse back to themselves;
- settlement never returns less than nothing, returns the stake when all is void, nothing when all lose.
"""

from __future__ import annotations

import csv
import io
import string
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.betfiles import (
    BetFileError,
    FileSelection,
    Knockback,
    KnockbackSelection,
    SmsWager,
    WebsiteBet,
    parse_bet_file,
)
from chalicelib.domain.betfiles.render import render
from chalicelib.domain.betfiles.text import event_name, sport_of
from chalicelib.domain.betfiles.wager_names import FORECAST_TYPES
from chalicelib.domain.bets import BET_SHAPES, BetType
from chalicelib.domain.history_csv import REQUIRED_COLUMNS, HistoryCsvError, iter_rows
from chalicelib.domain.results import EventResult
from chalicelib.domain.settlement import FORECASTS, BetToSettle, settle
from chalicelib.domain.sms_wager import ParsedSmsBet, parse_sms_text
from chalicelib.domain.uk_time import london_to_utc

SAMPLES = Path(__file__).resolve().parent.parent / "events" / "betfiles"
SAMPLE_BYTES = [p.read_bytes() for p in sorted(SAMPLES.iterdir())]


def budget(n: int) -> Any:
    return settings(
        max_examples=n, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )


# --- the parsers never raise anything else ----------------------------------------------------------


@budget(300)
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        parse_bet_file(data)
    except BetFileError as err:
        assert err.message


LABELS = [
    "Wager Number - ", "Customer Reference - ", "Customer Risk Category - ", "Bet placed on ", "Bets Win Only: ",
    "Bets Each Way: ", "Unit Stake: £", "Payment: £", "Wagers : ", "Knockback Details: ", "Customer Ref: ",
    "- Error Message: ", "- Liability Exceeded: ", "- Maximum stake available: ", "- Meeting Name: ",
    "- Selection Name: ", "- Bet Price: ", "- Wager Name: ", "- Total Stake: ", "Wager Number = ",
    "Mobile Number: ", "SMS Wager Text: ", "Ascot, 14:30, - ", " at ", " / ", "01/05/2025 14:02:11", "£",
]  # fmt: skip
piece = st.one_of(st.sampled_from(LABELS), st.text(string.printable + "£€Â\u00a0\ufeff", max_size=12))
line = st.lists(piece, max_size=6).map("".join)


@budget(400)
@given(st.lists(line, max_size=14), st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(["utf-8", "cp1252"]))
def test_label_soup(lines: list[str], newline: str, encoding: str) -> None:
    data = newline.join(lines).encode(encoding, errors="replace")
    try:
        parse_bet_file(data)
    except BetFileError as err:
        assert err.line is None or 1 <= err.line <= len(lines) + 1


@budget(300)
@given(st.sampled_from(SAMPLE_BYTES), st.data())
def test_mutated_samples(sample: bytes, data: st.DataObject) -> None:
    lines = sample.split(b"\n")
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["drop", "dup", "swap", "byte", "cut"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "byte" and lines[i]:
            k = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + bytes([data.draw(st.integers(0, 255))]) + lines[i][k + 1 :]
        elif op == "cut" and lines[i]:
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i]) - 1))]
    try:
        parse_bet_file(b"\n".join(lines))
    except BetFileError:
        pass


@budget(300)
@given(st.text(max_size=120))
def test_sms_text_never_raises(text: str) -> None:
    assert parse_sms_text(text) is None or isinstance(parse_sms_text(text), ParsedSmsBet)


@budget(150)
@given(st.lists(st.text(string.printable + "£\u00a0", max_size=40), max_size=8))
def test_history_csv_never_raises_but_its_own(lines: list[str]) -> None:
    text = [",".join(REQUIRED_COLUMNS) + "\n", *(ln + "\n" for ln in lines)]
    try:
        for result in iter_rows(text):
            assert (result.fields is None) != (result.error is None)
    except HistoryCsvError:
        pass


# --- valid records round-trip -----------------------------------------------------------------------

WAGER_NAMES = {
    BetType.single: "Single", BetType.double: "Double", BetType.treble: "Treble", BetType.accumulator: "Accumulator",
    BetType.forecast: "Forecast", BetType.reverse_forecast: "Reverse Forecast", BetType.tricast: "Tricast",
    BetType.trixie: "Trixie", BetType.patent: "Patent", BetType.yankee: "Yankee", BetType.lucky15: "Lucky 15",
    BetType.canadian: "Canadian", BetType.lucky31: "Lucky 31", BetType.heinz: "Heinz", BetType.lucky63: "Lucky 63",
    BetType.super_heinz: "Super Heinz", BetType.goliath: "Goliath",
}  # fmt: skip

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,15}", fullmatch=True)
word = st.text(string.ascii_letters, min_size=1, max_size=8)
name = st.lists(st.one_of(word, st.sampled_from(["at", "Trap", "trap", "O'Neill"])), min_size=1, max_size=4).map(
    " ".join
)
meeting = st.lists(word, min_size=1, max_size=3).map(" ".join)
race_time = st.one_of(st.none(), st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)))
price = st.one_of(
    st.sampled_from(["SP", "evs"]),
    st.builds(lambda n, d: f"{n}/{d}", st.integers(1, 100), st.integers(1, 20)),
    st.decimals(min_value=Decimal("1.01"), max_value=Decimal("1000"), places=2).map(str),
)


@st.composite
def uk_times(draw: st.DrawFn) -> tuple[datetime, bool]:
    local = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)))
    local = local.replace(microsecond=0)
    try:
        utc = london_to_utc(local)
    except ValueError:
        assume(False)
        raise
    return utc.utc, utc.ambiguous


def file_selection(meet: str, time: str | None, sel: str, p: str) -> FileSelection:
    return FileSelection(
        event=event_name(meet, time), meeting=meet, race_time=time, selection=sel, price=p, sport=sport_of(sel, time)
    )


@st.composite
def website_bets(draw: st.DrawFn) -> WebsiteBet:
    bet_type = draw(st.sampled_from(sorted(WAGER_NAMES)))
    (lo, hi), base_lines = BET_SHAPES[bet_type]
    n = draw(st.integers(lo, min(hi, 8)))
    forecast = bet_type in FORECAST_TYPES
    if forecast:
        meet, time = draw(meeting), draw(race_time)
        sels = [file_selection(meet, time, draw(name), draw(price)) for _ in range(n)]
    else:
        sels = [file_selection(draw(meeting), draw(race_time), draw(name), draw(price)) for _ in range(n)]
    each_way = False if forecast else draw(st.booleans())
    lines = base_lines * (2 if each_way else 1)
    unit = Decimal(draw(st.integers(1, 100_000))).scaleb(-2)
    placed_at, ambiguous = draw(uk_times())
    assume(not ambiguous)
    sports = {s.sport for s in sels}
    return WebsiteBet(
        wager_number=draw(ids),
        customer_ref=draw(ids),
        risk_category=draw(st.one_of(st.none(), st.sampled_from(string.ascii_uppercase))),
        placed_at=placed_at,
        selections=sels,
        wager_name=WAGER_NAMES[bet_type],
        bet_type=bet_type,
        each_way=each_way,
        lines=lines,
        unit_stake=unit,
        stake=unit * lines,
        sport=sports.pop() if len(sports) == 1 else "mixed",
    )


@budget(200)
@given(website_bets())
def test_website_bets_round_trip(bet: WebsiteBet) -> None:
    assert parse_bet_file(render(bet).encode()) == bet
    assert parse_bet_file(render(bet).replace("\n", "\r\n").encode("cp1252", errors="strict")) == bet


safe_text = st.text(string.ascii_letters + string.digits + " ,.!?'", min_size=1, max_size=40).map(str.strip)


@st.composite
def knockbacks(draw: st.DrawFn) -> Knockback:
    attempted_at, ambiguous = draw(uk_times())
    assume(not ambiguous)
    message = draw(safe_text)
    assume(message)
    return Knockback(
        knockback_id=draw(ids),
        customer_ref=draw(ids),
        error_message=message,
        liability_exceeded=draw(st.booleans()),
        max_stake_minor=draw(st.one_of(st.none(), st.integers(0, 10**7))),
        attempted_at=attempted_at,
        selections=[
            KnockbackSelection(meeting=draw(meeting), selection=draw(name), price=draw(price))
            for _ in range(draw(st.integers(1, 4)))
        ],
        wager_name=WAGER_NAMES[BetType.single],
        bet_type=BetType.single,
        total_stake_minor=draw(st.integers(0, 10**7)),
    )


@budget(100)
@given(knockbacks())
def test_knockbacks_round_trip(kb: Knockback) -> None:
    assert parse_bet_file(render(kb).encode()) == kb


@st.composite
def sms_wagers(draw: st.DrawFn) -> SmsWager:
    text = draw(safe_text)
    assume(text)
    received = draw(st.one_of(st.none(), uk_times()))
    assume(received is None or not received[1])
    return SmsWager(
        wager_number=draw(ids),
        customer_ref=draw(ids),
        mobile_number="+447" + "".join(draw(st.lists(st.sampled_from(string.digits), min_size=9, max_size=9))),
        text=text,
        received_at=received[0] if received else None,
        parsed=parse_sms_text(text),
    )


@budget(100)
@given(sms_wagers())
def test_sms_wagers_round_trip(sms: SmsWager) -> None:
    assert parse_bet_file(render(sms).encode()) == sms


COURSES = ["Ascot", "Kempton", "Newton Abbot", "Market Rasen", "Romford", "York"]
horse = st.lists(st.text(string.ascii_uppercase, min_size=3, max_size=8).map(str.title), min_size=1, max_size=3)


@budget(200)
@given(
    st.integers(1, 50_000),
    st.booleans(),
    horse.map(" ".join),
    st.integers(10, 21),
    st.integers(0, 59),
    st.sampled_from(COURSES),
    st.one_of(st.none(), st.sampled_from(["9/2", "evs", "11/10", "SP"])),
    st.sampled_from(["{stake} {mode} {sel} {time} {course}{price}", "{stake} {mode} {sel} {course} {time}{price}"]),
)
def test_sms_forms_parse_to_exactly_what_was_written(
    pence: int, ew: bool, sel: str, h: int, m: int, course: str, p: str | None, form: str
) -> None:
    reserved = {"win", "each", "way", "and", "place", "trap", "evs", "evens", "sp", "at", "on", "in"}
    assume(all(w.lower() not in reserved for w in sel.split()))  # a horse called 'Evens' is read as the price
    assume(not any(sel.lower().endswith(c.lower()) or sel.lower().startswith(c.lower()) for c in COURSES))
    stake = Decimal(pence).scaleb(-2)
    text = form.format(
        stake=f"£{stake}", mode="e/w" if ew else "win", sel=sel, time=f"{h}:{m:02d}", course=course,
        price=f" {p}" if p else "",
    )  # fmt: skip
    bet = parse_sms_text(text)
    assert bet is not None, text
    assert (bet.unit_stake, bet.each_way, bet.stake) == (stake, ew, stake * 2 if ew else stake)
    assert (bet.selection, bet.meeting, bet.race_time, bet.price) == (sel, course, f"{h:02d}:{m:02d}", p or "SP")


@budget(100)
@given(st.lists(st.tuples(ids, st.integers(1, 10**6), st.booleans()), min_size=1, max_size=6))
def test_history_rows_round_trip(rows: list[tuple[str, int, bool]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([*REQUIRED_COLUMNS, "each_way"])
    for bet_id, pence, ew in rows:
        sels = '[{"event": "14:30 Ascot", "selection": "A, \\"B\\"", "price": "SP"}]'
        stake = str(Decimal(pence).scaleb(-2))
        w.writerow([bet_id, "C1", "", "online", stake, "GBP", "single", "x", "2025-05-01T10:00:00Z", sels, str(ew)])
    got = list(iter_rows(buf.getvalue().splitlines(keepends=True)))
    assert [(r.row, r.error) for r in got] == [(i + 1, None) for i in range(len(rows))]
    for r, (bet_id, pence, ew) in zip(got, rows, strict=True):
        assert r.fields is not None
        assert (r.fields["bet_id"], Decimal(r.fields["stake"]), r.fields["each_way"]) == (
            bet_id, Decimal(pence).scaleb(-2), ew,
        )  # fmt: skip
        assert r.fields["selections"][0]["selection"] == 'A, "B"'


# --- settlement properties --------------------------------------------------------------------------

OUTCOMES = ["won", "second", "third", "lost", "non_runner", "dead_heat"]


@st.composite
def settled_bets(draw: st.DrawFn) -> tuple[BetToSettle, list[EventResult], list[str]]:
    bet_type = draw(st.sampled_from(list(BetType)))
    (lo, hi), base_lines = BET_SHAPES[bet_type]
    n = draw(st.integers(lo, min(hi, 8)))
    forecast = bet_type in FORECASTS
    each_way = False if forecast else draw(st.booleans())
    lines = (1 if bet_type == BetType.each_way else base_lines) * (2 if each_way or bet_type == BetType.each_way else 1)
    stake = lines * draw(st.integers(1, 1000))
    prices = [draw(st.sampled_from(["SP", "evs", "2/1", "1/3", "5.5", "100/1"])) for _ in range(n)]
    outcomes = [draw(st.sampled_from(OUTCOMES)) for _ in range(n)]
    terms = draw(st.sampled_from([None, {"places": 3, "fraction": "1/4"}, {"places": 4, "fraction": "1/5"}]))
    sels, results = [], []
    if forecast:
        sels = [{"event": "16:00 York", "selection": f"R{i}", "price": "SP"} for i in range(n)]
        order = draw(st.permutations([f"R{i}" for i in range(n)] + ["X", "Y"]))
        nrs = [f"R{i}" for i in range(n) if outcomes[i] == "non_runner"]
        finish = [r for r in order if r not in nrs]
        results.append(EventResult.model_validate({
            "event": "16:00 York", "positions": finish, "non_runners": nrs,
            "forecast_dividend": "12.5", "tricast_dividend": "80",
        }))  # fmt: skip
    else:
        for i, (p, o) in enumerate(zip(prices, outcomes, strict=True)):
            event, runner = f"1{i}:00 Ascot", f"R{i}"
            sels.append({"event": event, "selection": runner, "price": p})
            by_outcome: dict[str, list[Any]] = {
                "won": [runner, "X", "Y", "Z"], "second": ["X", runner, "Y", "Z"], "third": ["X", "Y", runner, "Z"],
                "lost": ["X", "Y", "Z", "W", runner], "non_runner": ["X", "Y", "Z"], "dead_heat": [[runner, "X"], "Y"],
            }  # fmt: skip
            positions = by_outcome[o]
            results.append(EventResult.model_validate({
                "event": event, "positions": positions, "non_runners": [runner] if o == "non_runner" else [],
                "starting_prices": {runner: "7/2"}, "each_way": terms,
            }))  # fmt: skip
    bet = BetToSettle.model_validate(
        {"bet_type": bet_type, "each_way": each_way, "stake_minor": stake, "selections": sels}
    )
    return bet, results, outcomes


@budget(300)
@given(settled_bets())
def test_settlement_properties(case: tuple[BetToSettle, list[EventResult], list[str]]) -> None:
    bet, results, outcomes = case
    s = settle(bet, results)
    assert settle(bet, list(reversed(results))) == s  # pure, order-free
    assert len(s.lines) == bet.line_count
    if s.state == "open":
        assert bet.bet_type in FORECASTS and "dead_heat" in outcomes  # only a forecast dead heat is left to a person
        return
    assert s.returns_minor is not None and s.returns_minor >= 0
    assert s.profit_minor == s.returns_minor - bet.stake_minor
    assert all((ln.returns_minor or 0) >= 0 for ln in s.lines)
    if all(o == "non_runner" for o in outcomes):
        assert (s.state, s.returns_minor) == ("void", bet.stake_minor)
    if all(o == "lost" for o in outcomes) and (not bet.is_each_way or all(r.each_way for r in results)):
        assert s.returns_minor == 0  # (without place terms an each-way bet's place stake comes back)
    if bet.bet_type not in FORECASTS and all(o in ("lost", "non_runner") for o in outcomes):
        # nothing won or placed: only the void stake can come back
        assert s.returns_minor <= bet.stake_minor


@budget(100)
@given(settled_bets(), st.integers(0, 7))
def test_a_missing_result_leaves_the_bet_open_or_lost(
    case: tuple[BetToSettle, list[EventResult], list[str]], drop: int
) -> None:
    bet, results, _ = case
    assume(drop < len(results))
    s = settle(bet, results[:drop] + results[drop + 1 :])
    assert s.state in ("open", "settled")
    if s.state == "settled":
        assert s.returns_minor == 0  # only a loser settles a bet with a leg still to run
    assert all(leg.outcome == "open" for leg in s.legs if leg.event == results[drop].event)
