"""Money in integer minor units, and odds in their three spellings."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

# ISO 4217 minor-unit exponents for the currencies a deployment may take.
MINOR_EXPONENT = {"GBP": 2, "EUR": 2, "USD": 2}

# Any price above 1.0 is a price: UK books quote 1/200 (1.005). 1.0 returns only the stake.
MIN_DECIMAL_ODDS = Decimal("1")
MAX_DECIMAL_ODDS = Decimal("10001")
ODDS_PRECISION = Decimal("0.0001")
DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
FRACTION_TEXT = re.compile(r"([0-9]{1,9})/([0-9]{1,9})")


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Convert a major-unit amount to minor units; reject sub-minor precision rather than round."""
    exp = MINOR_EXPONENT[currency]
    try:
        d = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {amount!r}") from exc
    if not d.is_finite():
        raise ValueError("must be a finite number")
    scaled = d.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"has more than {exp} decimal places")
    return int(scaled)


SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_minor(minor: int, currency: str) -> str:
    """For people: '£1,250.00'."""
    exp = MINOR_EXPONENT[currency]
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    amount = f"{whole:,}.{frac:0{exp}d}" if exp else f"{whole:,}"
    symbol = SYMBOL.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def parse_odds(raw: object) -> Decimal | None:
    """Decimal odds from a decimal number, a fractional price ('5/2', 'evs') or 'SP' (None).

    Raises ValueError with a message naming what is wrong.
    """
    if isinstance(raw, bool):
        raise ValueError("odds must be decimal (2.5), fractional ('5/2', 'evs') or 'SP'")
    if isinstance(raw, (int, float, Decimal)):
        value = Decimal(str(raw))
    elif isinstance(raw, str):
        text = raw.strip().upper()
        if text == "SP":
            return None
        if text in ("EVS", "EVENS", "EVEN"):
            value = Decimal(2)
        elif "/" in text:
            m = FRACTION_TEXT.fullmatch(text)
            if m is None or int(m.group(2)) == 0:
                raise ValueError(f"fractional odds {raw!r} are not of the form 'N/D'")
            frac = Fraction(int(m.group(1)), int(m.group(2)))
            if frac <= 0:
                raise ValueError(f"fractional odds {raw!r} must be positive")
            value = (Decimal(frac.numerator) / Decimal(frac.denominator) + 1).quantize(ODDS_PRECISION)
        elif DECIMAL_TEXT.fullmatch(text):
            value = Decimal(text)
        else:
            raise ValueError(f"odds {raw!r} are not decimal, fractional or 'SP'")
    else:
        raise ValueError("odds must be decimal (2.5), fractional ('5/2', 'evs') or 'SP'")
    if not value.is_finite() or value <= MIN_DECIMAL_ODDS:
        raise ValueError(f"decimal odds must be above {MIN_DECIMAL_ODDS}.0")
    if value > MAX_DECIMAL_ODDS:
        raise ValueError(f"decimal odds must be at most {MAX_DECIMAL_ODDS}")
    return value
