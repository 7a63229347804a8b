"""Opaque page cursors: what a store needs to continue a listing, as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.domain.errors import InvalidParameter

NOT_OURS = "cursor: not a cursor this API returned"
DETAILS = [{"field": "cursor", "message": "invalid"}]


def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InvalidParameter(NOT_OURS, DETAILS) from exc
    if not isinstance(state, dict):
        raise InvalidParameter(NOT_OURS, DETAILS)
    return state


def position_token(position: str) -> str:
    """A feed position as a URL-safe opaque token."""
    return encode_cursor({"p": position})


def position_of(token: str) -> str:
    state = decode_cursor(token)
    if not isinstance(state.get("p"), str):
        raise InvalidParameter(NOT_OURS, DETAILS)
    return str(state["p"])
