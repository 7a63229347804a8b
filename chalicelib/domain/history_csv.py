"""Batch history import: a CSV of bets, read one row at a time (the file is never held in memory).

    bet_id,customer_id,shop_id,channel,stake,currency,bet_type,sport,placed_at,selections
    H-1,ABC123,,online,10.00,GBP,single,horse_racing,2025-05-01T14:02:11+01:00,"[{""event"": ""14:30 Ascot"", ..."

    reader = HistoryCsvReader(iter_text_lines(s3_body.iter_chunks()), start_after=job.rows_done)
    for row in reader:                 # RowResult: row, line, fields | error, raw
        ...BetIn.model_validate(row.fields)   # describe_validation_error(exc) names the column

Rows are numbered from 1 (the first row after the header); `start_after=n` skips rows 1..n without
converting them, so a job that stopped after row n resumes at n+1.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from chalicelib.domain.uk_time import london_to_utc, parse_uk_datetime

REQUIRED_COLUMNS = (
    "bet_id", "customer_id", "shop_id", "channel", "stake", "currency", "bet_type", "sport", "placed_at", "selections",
)  # fmt: skip
# BetIn's other fields, taken when the CSV has them; any other column is passed through as `extras`.
OPTIONAL_COLUMNS = ("each_way", "device_id", "location")
MAX_LINE_BYTES = 1024 * 1024

_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


class HistoryCsvError(ValueError):
    """The file as a whole cannot be imported (bad header, a line over the limit)."""


class RowResult(NamedTuple):
    row: int  # 1 = the first row after the header
    line: int  # the file line the row starts on (header = line 1)
    fields: dict[str, Any] | None  # BetIn's fields, ready for BetIn.model_validate; None when error is set
    error: str | None  # 'stake: ...' — starts with the column's name
    raw: dict[str, str]  # the row as read, column → text, for the error CSV
    extras: dict[str, str]  # the row's columns that are not BetIn fields


def iter_text_lines(chunks: Iterable[bytes], *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Bytes in any chunking (an S3 body's iter_chunks) → text lines with their line endings.

    Each line is UTF-8 (a BOM on the first is dropped), else cp1252, else latin-1: the byte '\\n' means
    the same in all three, so lines can be split before they are decoded.
    """
    buf = b""
    first = True
    for chunk in chunks:
        buf += chunk  # only the last chunk's unfinished line is carried over
        start = 0
        while (nl := buf.find(b"\n", start)) != -1:
            yield _decode_line(buf[start : nl + 1], first)
            first, start = False, nl + 1
        buf = buf[start:]
        if len(buf) > max_line_bytes:
            raise HistoryCsvError(f"a line is over {max_line_bytes:,} bytes: not a bet history CSV")
    if buf:
        yield _decode_line(buf, first)


def _decode_line(line: bytes, first: bool) -> str:
    if first and line.startswith(codecs.BOM_UTF8):
        line = line[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode("latin-1")


class _RowError(ValueError):
    pass


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _placed_at(value: str) -> str:
    """ISO 8601 with an offset is kept; a time without one, or dd/mm/yyyy HH:MM:SS, is UK local."""
    text = value.strip()
    if not text:
        raise _RowError("placed_at: required")
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}(:\d{2})?", text):
        try:
            return parse_uk_datetime(text).utc.isoformat()
        except ValueError as exc:
            raise _RowError(f"placed_at: {exc}") from None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _RowError(f"placed_at: {text!r} is not an ISO 8601 date-time or dd/mm/yyyy HH:MM:SS") from None
    if when.tzinfo is None:
        try:
            return london_to_utc(when).utc.isoformat()
        except ValueError as exc:
            raise _RowError(f"placed_at: {exc}") from None
    return when.isoformat()


def _json(column: str, value: str, kind: type, what: str) -> Any:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise _RowError(f"{column}: not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(parsed, kind):
        raise _RowError(f"{column}: must be a JSON {what}")
    return parsed


def row_fields(raw: dict[str, str]) -> dict[str, Any]:
    """One row's text as BetIn's fields. Raises ValueError whose message starts with the column's name."""
    out: dict[str, Any] = {}
    bet_id = _text(raw["bet_id"])
    if bet_id is None:
        raise _RowError("bet_id: required in an import (it is what makes a re-run skip the bets it already has)")
    out["bet_id"] = bet_id
    for column in ("customer_id", "shop_id", "device_id"):
        if column in raw:
            out[column] = _text(raw[column])
    for column in ("channel", "stake", "bet_type", "sport"):
        value = _text(raw[column])
        if value is None:
            raise _RowError(f"{column}: required")
        out[column] = value
    currency = _text(raw["currency"])
    if currency is not None:
        out["currency"] = currency
    if "each_way" in raw:
        flag = raw["each_way"].strip().lower()
        if flag not in _TRUE | _FALSE:
            raise _RowError(f"each_way: {raw['each_way']!r} is not true or false")
        out["each_way"] = flag in _TRUE
    out["placed_at"] = _placed_at(raw["placed_at"])
    selections = raw["selections"].strip()
    if not selections:
        raise _RowError("selections: required (a JSON array of {event, market, selection, price})")
    out["selections"] = _json("selections", selections, list, "array of {event, market, selection, price}")
    if "location" in raw and raw["location"].strip():
        out["location"] = _json("location", raw["location"], dict, 'object {"lat": …, "lon": …}')
    return out


class _Recording:
    """The line iterator, remembering the text of the row being read (one row's worth, for the error CSV)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.text: list[str] = []

    def __iter__(self) -> _Recording:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.text.append(line)
        return line


UNPARSED = "unparsed"  # the error CSV's column for a row's text when it could not be split into columns


class HistoryCsvReader:
    """Reads the header at once (raising HistoryCsvError when it is wrong), then yields RowResults."""

    def __init__(self, lines: Iterable[str], *, start_after: int = 0) -> None:
        if start_after < 0:
            raise ValueError("start_after must be 0 or more")
        self._lines = _Recording(lines)
        self._reader = csv.reader(self._lines, strict=True)
        self._start_after = start_after
        try:
            header = next(self._reader)
        except StopIteration:
            raise HistoryCsvError("the file is empty: expected a header row") from None
        except csv.Error as exc:
            raise HistoryCsvError(f"line 1: the header row is not CSV ({exc})") from None
        self.columns = [c.strip().lstrip("\ufeff") for c in header]
        seen: set[str] = set()
        for c in self.columns:
            if not c:
                raise HistoryCsvError("line 1: the header row has an empty column name")
            if c in seen:
                raise HistoryCsvError(f"line 1: column {c!r} appears twice in the header")
            seen.add(c)
        missing = [c for c in REQUIRED_COLUMNS if c not in seen]
        if missing:
            raise HistoryCsvError(f"line 1: the header has no {', '.join(missing)} column(s)")
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
        self.extra_columns = [c for c in self.columns if c not in known]

    def __iter__(self) -> Iterator[RowResult]:
        row = 0
        while True:
            start_line = self._reader.line_num + 1
            self._lines.text = []
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # A broken quote (or a field over the csv module's 128 KB limit) spoils this row; the reader
                # starts afresh on the next line, so the rows after it are still read.
                row += 1
                if row > self._start_after:
                    text = "".join(self._lines.text).rstrip("\r\n")
                    yield RowResult(row, start_line, None, f"row: not CSV ({exc})", {UNPARSED: text}, {})
                continue
            if not values or all(not v.strip() for v in values):
                continue  # blank lines are not rows
            row += 1
            if row <= self._start_after:
                continue
            yield self._result(row, start_line, values)

    def _result(self, row: int, line: int, values: list[str]) -> RowResult:
        raw = dict(zip(self.columns, values, strict=False))
        extras = {c: raw[c] for c in self.extra_columns if c in raw}
        if len(values) != len(self.columns):
            raw = {UNPARSED: "".join(self._lines.text).rstrip("\r\n")}
            error = f"row: has {len(values)} values, the header has {len(self.columns)} columns"
            return RowResult(row, line, None, error, raw, extras)
        try:
            return RowResult(row, line, row_fields(raw), None, raw, extras)
        except _RowError as exc:
            return RowResult(row, line, None, str(exc), raw, extras)


def iter_rows(lines: Iterable[str], *, start_after: int = 0) -> Iterator[RowResult]:
    """HistoryCsvReader as a plain generator (the header is checked on the first next())."""
    yield from HistoryCsvReader(lines, start_after=start_after)


def describe_validation_error(exc: ValidationError) -> str:
    """BetIn's errors as one line, each starting with its column: 'stake: ...; selections.0.price: ...'."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if not loc and ": " in msg and msg.split(": ", 1)[0].isidentifier():
            parts.append(msg)  # a row-level check that names its column ("selections: a double takes 2 ...")
            continue
        parts.append(f"{loc or 'row'}: {msg}")
    return "; ".join(parts)


# A cell a spreadsheet would run as a formula (=, +, -, @) is written with a leading quote; numbers stay.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def _safe_cell(value: str) -> str:
    return "'" + value if _FORMULA.match(value) and not _NUMBER.match(value) else value


class ErrorCsv:
    """The rejected rows as CSV text, a line at a time (for a multipart upload staff later download).

    Columns: row, line, error, the import's own columns as read, then 'unparsed': the row's text when it
    could not be split into those columns (a broken quote, too many or too few values).
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)

    def _line(self, cells: Iterable[str]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow([_safe_cell(c) for c in cells])
        return buf.getvalue()

    def header(self) -> str:
        return self._line(["row", "line", "error", *self.columns, UNPARSED])

    def row(self, result: RowResult, error: str | None = None) -> str:
        """`error` overrides result.error (e.g. the BetIn validation message for a row that parsed)."""
        message = error or result.error or ""
        values = (result.raw.get(c, "") for c in (*self.columns, UNPARSED))
        cells = [str(result.row), str(result.line), message, *values]
        return self._line(cells)


class CountingLines:
    """iter_text_lines that counts the bytes and lines it has handed out, so a job that stops after a
    row knows the byte offset (and line number) to resume from. The csv module reads no further than
    the row it returns, so after each row `bytes` is exactly the end of that row."""

    def __init__(
        self, chunks: Iterable[bytes], *, first: bool = True, first_line: int = 1, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self._chunks = chunks
        self._first = first
        self._first_line = first_line  # the file's line number of the first line (a resumed chunk's)
        self._max = max_line_bytes
        self.bytes = 0
        self.lines = 0

    def __iter__(self) -> Iterator[str]:
        buf = b""
        for chunk in self._chunks:
            buf += chunk
            start = 0
            while (nl := buf.find(b"\n", start)) != -1:
                yield self._line(buf[start : nl + 1])
                start = nl + 1
            buf = buf[start:]
            if len(buf) > self._max:
                line = self._first_line + self.lines
                raise HistoryCsvError(f"line {line}: over {self._max:,} bytes: not a bet history CSV")
        if buf:
            yield self._line(buf)

    def _line(self, raw: bytes) -> str:
        self.bytes += len(raw)
        self.lines += 1
        text = _decode_line(raw, self._first)
        self._first = False
        return text


def header_line(columns: Sequence[str]) -> str:
    """The header row as CSV text (what a resumed chunk parses its rows with)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(columns)
    return buf.getvalue()
