"""'Label - value' lines: one or more labelled parts joined by ' / ', labels matched case-insensitively.

    Wager Number - 1234567 / Customer Reference - ABC123 / Customer Risk Category - W
    - Liability Exceeded: True
    Wager Number = 55501

The separator after a label is ':', '=' or '-' (spaces around it optional); a leading '- ' is a bullet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.domain.betfiles.errors import BetFileError
from chalicelib.domain.betfiles.text import Line


class Field(NamedTuple):
    key: str  # the parser's name for it
    label: str  # as the file spelled it
    value: str
    line: int


class Labels:
    """A parser for the labelled lines of one format: `spellings` maps each accepted label to its key."""

    def __init__(self, spellings: Mapping[str, str]) -> None:
        self._keys = {self._norm(s): key for s, key in spellings.items()}
        alts = "|".join(r"\s+".join(re.escape(w) for w in s.split()) for s in sorted(spellings, key=len, reverse=True))
        self._part = re.compile(rf"(?:^|\s*/\s+)-?\s*(?P<label>{alts})\s*(?:[:=]|-|–)\s*", re.IGNORECASE)

    @staticmethod
    def _norm(label: str) -> str:
        return " ".join(label.lower().split())

    def parse(self, line: Line) -> list[Field] | None:
        """The line's fields, or None when it does not start with one of the labels."""
        matches = list(self._part.finditer(line.text))
        if not matches or matches[0].start() != 0:
            return None
        out: list[Field] = []
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line.text)
            label = m["label"]
            value = line.text[m.end() : end].strip()
            out.append(Field(self._keys[self._norm(label)], " ".join(label.split()), value, line.number))
        return out


class FieldSet:
    """The fields of one file, each given once."""

    def __init__(self) -> None:
        self._fields: dict[str, Field] = {}

    def add(self, field: Field) -> None:
        if field.key in self._fields:
            first = self._fields[field.key]
            raise BetFileError(field.line, f"'{field.label}' is given twice (first on line {first.line})")
        self._fields[field.key] = field

    def get(self, key: str) -> Field | None:
        return self._fields.get(key)

    def require(self, key: str, expected: str) -> Field:
        field = self._fields.get(key)
        if field is None:
            raise BetFileError(None, f"missing {expected}")
        if not field.value:
            raise BetFileError(field.line, f"'{field.label}' has no value")
        return field

    def __contains__(self, key: str) -> bool:
        return key in self._fields


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # chalicelib.domain.bets.Id, as the bet API takes ids


def require_id(fields: FieldSet, key: str, expected: str) -> Field:
    """A required field that becomes an id (bet id, customer id): letters, digits and _ . : - only."""
    field = fields.require(key, expected)
    if not _ID.fullmatch(field.value):
        raise BetFileError(
            field.line, f"{field.label} {field.value!r} is not an id (up to 64 letters, digits and _ . : -)"
        )
    return field
