"""Bet ingest: score, then store the bet and the customer's aggregates in one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib import aws, subjects
from chalicelib.auth import Principal
from chalicelib.config import settings
from chalicelib.domain.money import to_minor
from chalicelib.http import ApiError
from chalicelib.risk import scorer
from chalicelib.schemas import Bet, BetIn, History, Selection


def _table() -> Any:
    return aws.dynamodb_table(settings().table("bets"))


def _fingerprint(body: BetIn) -> str:
    canonical = body.model_dump(mode="json", exclude={"bet_id"})
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _bet_id(body: BetIn, principal: Principal, idempotency_key: str | None) -> str:
    if body.bet_id:
        return body.bet_id
    if idempotency_key:
        if not 1 <= len(idempotency_key) <= 200:
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
        # Scoped to the client, so two tills using the same key do not collide.
        return "idem-" + hashlib.sha256(f"{principal.id}|{idempotency_key}".encode()).hexdigest()[:32]
    return uuid.uuid4().hex


def _potential_return(body: BetIn) -> int | None:
    odds = [s.decimal_odds for s in body.selections]
    if any(o is None for o in odds) or body.lines != 1:
        return None  # SP, or a full-cover bet whose return depends on which legs win
    product = Decimal(1)
    for o in odds:
        product *= o  # type: ignore[operator]
    return int((Decimal(body.stake_minor) * product).to_integral_value())


def build_bet(body: BetIn, bet_id: str, principal: Principal, history: History) -> Bet:
    return Bet(
        bet_id=bet_id,
        customer_id=body.customer_id,
        shop_id=body.shop_id,
        channel=body.channel,
        stake_minor=to_minor(body.stake, body.currency),
        currency=body.currency,
        bet_type=body.bet_type,
        each_way=body.each_way,
        lines=body.lines,
        selections=[
            Selection(
                event=s.event,
                market=s.market,
                selection=s.selection,
                price=str(s.price),
                decimal_odds=float(d) if (d := s.decimal_odds) is not None else None,
            )
            for s in body.selections
        ],
        sport=body.sport,
        placed_at=body.placed_at,
        received_at=datetime.now(UTC),
        device_id=body.device_id,
        location=body.location,
        potential_return_minor=_potential_return(body),
        risk=scorer.assess(body, history),
        ingested_by=principal.id,
    )


def get_bet(bet_id: str) -> tuple[Bet, str] | None:
    item = _table().get_item(Key={"pk": f"BET#{bet_id}"}, ConsistentRead=True).get("Item")
    if not item:
        return None
    return Bet.model_validate_json(item["doc"]), item["fingerprint"]


def create_bet(body: BetIn, principal: Principal, idempotency_key: str | None) -> tuple[Bet, bool]:
    """Store a new bet, or return the stored one for a retried request. (bet, created)."""
    cfg = settings()
    if body.currency != cfg.currency:
        raise ApiError(
            422,
            "validation_error",
            f"currency: this deployment takes {cfg.currency}, got {body.currency}",
            [{"field": "currency", "message": f"must be {cfg.currency}"}],
        )
    bet_id = _bet_id(body, principal, idempotency_key)
    fingerprint = _fingerprint(body)
    if existing := get_bet(bet_id):
        return _replay(existing, fingerprint)

    subject = subjects.customer_key(body.customer_id) if body.customer_id else None
    history = subjects.history(subject, body.placed_at) if subject else History()
    bet = build_bet(body, bet_id, principal, history)
    doc = bet.model_dump(mode="json")
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": cfg.table("bets"),
                "Item": {
                    "pk": {"S": f"BET#{bet_id}"},
                    "doc": {"S": bet.model_dump_json()},
                    "fingerprint": {"S": fingerprint},
                    "risk_score": {"N": str(bet.risk.score)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    if subject:
        writes += subjects.bet_writes(subject, doc, display=body.customer_id or "")
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=writes)
    except aws.client("dynamodb").exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            # A concurrent retry won the race: answer as a replay.
            if existing := get_bet(bet_id):
                return _replay(existing, fingerprint)
        raise
    return bet, True


def _replay(existing: tuple[Bet, str], fingerprint: str) -> tuple[Bet, bool]:
    bet, stored_fp = existing
    if stored_fp != fingerprint:
        raise ApiError(409, "conflict", f"bet {bet.bet_id} already exists with different details")
    return bet, False
