"""The examples in docs/bet-files.md are what the parsers take."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chalicelib.domain.betfiles import Knockback, SmsWager, WebsiteBet, parse_bet_file
from chalicelib.domain.bets import BetIn
from chalicelib.domain.history_csv import iter_rows
from chalicelib.domain.results import EventResult

DOC = (Path(__file__).resolve().parents[2] / "docs" / "bet-files.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, re.S)


def test_the_three_file_examples_parse() -> None:
    files = [body for lang, body in BLOCKS if lang == "text" and not body.startswith("bet_id,")]
    kinds = [type(parse_bet_file(body.encode())) for body in files]
    assert kinds == [WebsiteBet, Knockback, SmsWager]


def test_the_csv_example_is_a_bet() -> None:
    (csv_text,) = [body for lang, body in BLOCKS if lang == "text" and body.startswith("bet_id,")]
    (row,) = iter_rows(csv_text.splitlines(keepends=True))
    assert row.fields is not None
    BetIn.model_validate(row.fields)


def test_the_result_example_validates() -> None:
    results = [json.loads(body) for lang, body in BLOCKS if lang == "json" and '"event"' in body]
    (result,) = results
    r = EventResult.model_validate(result)
    assert r.placing("Kauto Star") == (4, 1)
