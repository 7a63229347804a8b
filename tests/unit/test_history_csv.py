"""The history import's CSV rows: streamed, validated per column, resumable, and an error CSV for staff."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from chalicelib.domain.bets import BetIn
from chalicelib.domain.history_csv import (
    REQUIRED_COLUMNS,
    ErrorCsv,
    HistoryCsvError,
    HistoryCsvReader,
    iter_rows,
    iter_text_lines,
)

HEADER = ",".join(REQUIRED_COLUMNS)
SELECTIONS = json.dumps([{"event": "14:30 Ascot", "selection": "Sea Bird", "price": "5.5"}])


def row(**overrides: str) -> dict[str, str]:
    values = {
        "bet_id": "H-1",
        "customer_id": "ABC123",
        "shop_id": "",
        "channel": "online",
        "stake": "10.00",
        "currency": "GBP",
        "bet_type": "single",
        "sport": "horse_racing",
        "placed_at": "2025-05-01T14:02:11+01:00",
        "selections": SELECTIONS,
    }
    values.update(overrides)
    return values


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    cols = columns or list(REQUIRED_COLUMNS)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_a_good_row_validates_as_the_api_bet() -> None:
    (result,) = iter_rows(lines(csv_text([row()])))
    assert (result.row, result.line, result.error) == (1, 2, None)
    assert result.fields is not None
    body = BetIn.model_validate(result.fields)
    assert body.bet_id == "H-1" and body.shop_id is None and body.stake_minor == 1000
    assert body.placed_at.isoformat() == "2025-05-01T13:02:11+00:00"


@pytest.mark.parametrize(
    ("placed_at", "utc"),
    [
        ("2025-05-01T14:02:11Z", "2025-05-01T14:02:11+00:00"),
        ("2025-05-01 14:02:11", "2025-05-01T13:02:11+00:00"),  # no offset: UK local
        ("01/05/2025 14:02:11", "2025-05-01T13:02:11+00:00"),
        ("01/01/2025 14:02", "2025-01-01T14:02:00+00:00"),
    ],
)
def test_placed_at_spellings(placed_at: str, utc: str) -> None:
    (result,) = iter_rows(lines(csv_text([row(placed_at=placed_at)])))
    assert result.fields is not None
    assert BetIn.model_validate(result.fields).placed_at.isoformat() == utc


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"bet_id": ""}, "bet_id: required in an import"),
        ({"channel": " "}, "channel: required"),
        ({"stake": ""}, "stake: required"),
        ({"placed_at": ""}, "placed_at: required"),
        ({"placed_at": "yesterday"}, "placed_at: 'yesterday' is not an ISO 8601 date-time"),
        ({"placed_at": "30/03/2025 01:30:00"}, "placed_at: 30/03/2025 01:30:00 does not exist in UK time"),
        ({"placed_at": "2025-03-30 01:30:00"}, "placed_at: 30/03/2025 01:30:00 does not exist in UK time"),
        ({"selections": ""}, "selections: required"),
        ({"selections": "[oops"}, "selections: not JSON (Expecting value at character 1)"),
        ({"selections": '{"event": "x"}'}, "selections: must be a JSON array"),
    ],
)
def test_row_errors_start_with_the_column(overrides: dict[str, str], error: str) -> None:
    (result,) = iter_rows(lines(csv_text([row(**overrides)])))
    assert result.fields is None
    assert result.error is not None and result.error.startswith(error), result.error


def test_optional_and_extra_columns() -> None:
    cols = [*REQUIRED_COLUMNS, "each_way", "device_id", "location", "till_note"]
    data = row(each_way="TRUE", device_id="till-7", location='{"lat": 51.5, "lon": -0.1}', till_note="hi")
    reader = HistoryCsvReader(lines(csv_text([data], cols)))
    assert reader.extra_columns == ["till_note"]
    (result,) = reader
    assert result.extras == {"till_note": "hi"}
    assert result.fields is not None
    assert "till_note" not in result.fields
    body = BetIn.model_validate(result.fields)
    assert body.each_way is True and body.device_id == "till-7" and body.location is not None


def test_each_way_must_be_a_boolean() -> None:
    cols = [*REQUIRED_COLUMNS, "each_way"]
    (result,) = iter_rows(lines(csv_text([row(each_way="maybe")], cols)))
    assert result.error == "each_way: 'maybe' is not true or false"


def test_validation_errors_name_the_column() -> None:
    from chalicelib.domain.history_csv import describe_validation_error

    (result,) = iter_rows(lines(csv_text([row(stake="-1", bet_type="yankee")])))
    assert result.fields is not None
    with pytest.raises(ValidationError) as err:
        BetIn.model_validate(result.fields)
    message = describe_validation_error(err.value)
    assert message.startswith("stake: stake must be greater than zero")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "the file is empty"),
        ("bet_id,customer_id", "line 1: the header has no shop_id, channel"),
        (HEADER + ",bet_id", "line 1: column 'bet_id' appears twice"),
        (HEADER + ",", "line 1: the header row has an empty column name"),
    ],
)
def test_header_errors(header: str, message: str) -> None:
    with pytest.raises(HistoryCsvError, match=message):
        HistoryCsvReader([header + "\n"] if header else [])
    with pytest.raises(HistoryCsvError):
        list(iter_rows([header + "\n"] if header else []))


def test_header_with_bom_spaces_and_other_order() -> None:
    cols = list(reversed(REQUIRED_COLUMNS))
    text = "\ufeff" + " , ".join(cols) + "\n" + csv_text([row()], cols).split("\n", 1)[1]
    (result,) = iter_rows(lines(text))
    assert result.error is None


def test_wrong_number_of_values_and_broken_quotes_keep_the_raw_text() -> None:
    good = csv_text([row(bet_id="H-1"), row(bet_id="H-3")]).splitlines(keepends=True)
    text = [good[0], good[1], 'H-2,"broken"quote,x\n', "H-2b,too,few\n", good[2]]
    results = list(iter_rows(text))
    assert [(r.row, r.line) for r in results] == [(1, 2), (2, 3), (3, 4), (4, 5)]
    assert results[1].error is not None and results[1].error.startswith("row: not CSV")
    assert results[1].raw == {"unparsed": 'H-2,"broken"quote,x'}
    assert results[2].error == "row: has 3 values, the header has 10 columns"
    assert results[2].raw == {"unparsed": "H-2b,too,few"}
    assert results[3].fields is not None and results[3].fields["bet_id"] == "H-3"


def test_quoted_newlines_and_blank_lines() -> None:
    sel = json.dumps([{"event": "14:30 Ascot", "selection": "Sea Bird", "price": "SP"}], indent=1)
    text = csv_text([row(bet_id="H-1", selections=sel)]) + "\n\n" + csv_text([row(bet_id="H-2")]).split("\n", 1)[1]
    results = list(iter_rows(lines(text)))
    assert [(r.row, r.line, r.error) for r in results] == [
        (1, 2, None),
        (2, 11, None),
    ]  # rows on lines 2-8, two blank lines


def test_resume_after_a_row_skips_exactly_those_rows() -> None:
    rows = [row(bet_id=f"H-{i}") for i in range(1, 8)]
    text = lines(csv_text(rows))
    everything = list(iter_rows(text))
    for n in range(8):
        resumed = list(iter_rows(text, start_after=n))
        assert resumed == everything[n:]
    with pytest.raises(ValueError):
        HistoryCsvReader(text, start_after=-1)


def test_text_lines_from_chunks_any_size_and_encoding() -> None:
    text = csv_text([row(bet_id="H-1", sport="£ sport"), row(bet_id="H-2")])
    data = "\ufeff".encode() + text.encode()
    data_cp1252 = text.encode("cp1252")
    for blob in (data, data_cp1252):
        for size in (1, 3, 7, 64, 10_000):
            chunks = [blob[i : i + size] for i in range(0, len(blob), size)]
            got = list(iter_text_lines(chunks))
            assert "".join(got) == text
    assert list(iter_text_lines([b"a\r\nb"])) == ["a\r\n", "b"]


def test_a_line_over_the_limit_is_refused() -> None:
    with pytest.raises(HistoryCsvError, match="over 100 bytes"):
        list(iter_text_lines([b"x" * 60, b"x" * 60], max_line_bytes=100))


def _generated(n: int) -> Iterator[bytes]:
    yield (HEADER + "\n").encode()
    line = csv_text([row()]).split("\n", 1)[1]
    for i in range(n):
        yield line.replace("H-1", f"H-{i}").encode()


def test_memory_stays_flat_whatever_the_size() -> None:
    def peak(n: int) -> int:
        tracemalloc.start()
        count = sum(1 for r in iter_rows(iter_text_lines(_generated(n))) if r.error is None)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return top

    small, large = peak(200), peak(4000)
    assert large < small * 2 + 50_000, (small, large)


def test_error_csv() -> None:
    cols = [*REQUIRED_COLUMNS, "note"]
    data = [row(bet_id="H-1", stake="", note='=HYPERLINK("x")'), row(bet_id="H-2", stake="-5")]
    reader = HistoryCsvReader(lines(csv_text(data, cols)))
    out = ErrorCsv(reader.columns)
    results = list(reader)
    text = out.header() + out.row(results[0]) + out.row(results[1], error="stake: stake must be greater than zero")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["row", "line", "error", *cols, "unparsed"]
    assert parsed[1][:3] == ["1", "2", "stake: required"]
    assert parsed[1][3] == "H-1"
    assert parsed[1][cols.index("note") + 3] == '\'=HYPERLINK("x")'  # not run as a formula by a spreadsheet
    assert parsed[2][:3] == ["2", "3", "stake: stake must be greater than zero"]
    assert parsed[2][cols.index("stake") + 3] == "-5"  # a number is left as it is


def test_big_chunks_are_split_in_linear_time() -> None:
    import time

    line = csv_text([row()]).split("\n", 1)[1].encode()
    chunk = (HEADER + "\n").encode() + line * 20_000  # one 4 MB chunk, as iter_chunks(4 MiB) gives
    start = time.perf_counter()
    assert sum(1 for _ in iter_text_lines([chunk])) == 20_001
    assert time.perf_counter() - start < 1.0
