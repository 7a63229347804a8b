"""The one exception the bet-file parsers raise, shaped for the quarantine prefix's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError


class BetFileError(ValueError):
    """A file that cannot be recorded: `line` is 1-based in the file as sent (None: the file as a whole)."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line is not None else message)

    def as_dict(self) -> dict[str, Any]:
        """The quarantine error document: {"line": 4, "error": "...", "message": "line 4: ..."}."""
        return {"line": self.line, "error": self.message, "message": str(self)}


def field_error(exc: ValidationError, lines: Mapping[str, int]) -> BetFileError:
    """A model's validation error as a BetFileError on the line that gave the field (`lines`: field → line)."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    what = field.replace("_", " ")
    if err["type"] == "string_pattern_mismatch":
        return BetFileError(lines.get(field), f"{what} {err['input']!r} is not valid here")
    return BetFileError(lines.get(field), f"{what}: {err['msg']}")
