"""Bets in the `bets` table, recorded in one transaction with their subjects' items."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.client import Dynamo, put
from chalicelib.adapters.dynamodb.subjects import bet_writes, combined_odds, first_bet_update
from chalicelib.core.observability import logger
from chalicelib.domain.bets import Bet
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.results import event_key
from chalicelib.domain.settlement import Settlement
from chalicelib.domain.subjects import SubjectRef
from chalicelib.ports import StoredBet

FEED_TTL_DAYS = 35
EVENT_INDEX_TTL_DAYS = 400  # an open bet whose event never gets a result leaves the index after this


class DynamoBetStore:
    def __init__(self, dynamo: Dynamo, tables: dict[str, str], history_days: int):
        self.db = dynamo
        self.tables = tables
        self.history_days = history_days

    def get(self, bet_id: str) -> StoredBet | None:
        item = self.db.get(self.tables["bets"], {"pk": keys.bet(bet_id)})
        if item is None:
            return None
        settled = item.get("settlement")
        return StoredBet(
            Bet.model_validate_json(item["doc"]),
            item["fingerprint"],
            Settlement.model_validate_json(settled) if settled else None,
            item.get("settled_version"),
        )

    def record(
        self, bet: Bet, fingerprint: str, subjects: list[SubjectRef], activity: bool = True, maybe_earliest: bool = True
    ) -> bool:
        writes = [
            put(
                self.tables["bets"],
                {
                    "pk": keys.bet(bet.bet_id),
                    "doc": bet.model_dump_json(),
                    "fingerprint": fingerprint,
                    "risk_score": bet.risk.score,
                },
                condition="attribute_not_exists(pk)",
            )
        ]
        at = bet.received_at
        if activity:  # live bets only: the feed is what arrives (history is not)
            writes.append(put(self.tables["monitoring"], self.feed_item(bet)))
        for ref in subjects:
            writes += bet_writes(self.tables, ref, bet, self.history_days, at, activity=activity)
        writes += [put(self.tables["monitoring"], item) for item in event_items(bet)]
        if not self.db.transact_guarded(writes):
            return False  # the bet id exists: the caller answers as a replay (or a conflict)
        # A bet earlier than every bet in the lookback may be earlier than first_bet_at (a till back
        # online, an import); any earlier stored bet means first_bet_at is earlier already.
        for ref in subjects if maybe_earliest else []:
            try:
                self.db.update(**first_bet_update(self.tables, ref, bet.placed_at))
            except Unavailable:  # the bet is recorded: a refinement of first_bet_at must not fail it
                logger.warning("first_bet_at not lowered", extra={"bet_id": bet.bet_id, "subject": ref.id})
        return True

    def feed_item(self, bet: Bet) -> dict[str, object]:
        """The bet in the feed of bets as recorded (newest first by hour and shard)."""
        at = bet.received_at
        return {
            "pk": keys.feed(at, bet.bet_id),
            "sk": keys.feed_sort(at, bet.bet_id),
            "record_type": "bet",
            "bet_id": bet.bet_id,
            "customer_id": bet.customer_id,
            "shop_id": bet.shop_id,
            "channel": bet.channel.value,
            "stake_minor": bet.stake_minor,
            "bet_type": bet.bet_type.value,
            "odds": combined_odds(bet),
            "risk_score": bet.risk.score,
            "risk_level": bet.risk.level,
            "sport": bet.sport,
            # For display and the selection filter (lower case: DynamoDB's contains is case-sensitive).
            "sel": [f"{s.selection} ({s.event})" for s in bet.selections],
            "sel_lc": " | ".join(f"{s.selection} {s.event}" for s in bet.selections).lower(),
            "placed_at": keys.iso(bet.placed_at),
            "expires_at": int(at.timestamp()) + FEED_TTL_DAYS * 86400,
        }


def event_items(bet: Bet) -> list[dict[str, object]]:
    """The bet in the open-bets index of each of its events (what POST /results Queries)."""
    expires = int(bet.placed_at.timestamp()) + EVENT_INDEX_TTL_DAYS * 86400
    found = sorted({event_key(s.event) for s in bet.selections})
    return [{"pk": keys.event_open(k, bet.bet_id), "sk": keys.bet(bet.bet_id), "expires_at": expires} for k in found]
