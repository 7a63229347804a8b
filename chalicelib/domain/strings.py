"""Free text that is safe to store and show: one line, no control or format characters.

A name with a NUL, a right-to-left override or a zero-width space reads differently from how it is
stored: "Desert\u200bOrchid" would not match "Desert Orchid" for a bet-run rule, and U+202E makes a
staff screen show a name backwards. Fields that name things refuse them (422) instead of storing them.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Control, format, surrogate, private-use; line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def first_refused(text: str) -> str | None:
    return next((ch for ch in text if unicodedata.category(ch) in REFUSED_CATEGORIES), None)


def single_line(text: str) -> str:
    if (ch := first_refused(text)) is not None:
        raise ValueError(f"contains the control or format character U+{ord(ch):04X}, which is not allowed")
    return text


SafeText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(single_line)
]
