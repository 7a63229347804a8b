"""A subject's recent betting summarised for the risk model (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.bets import History
from chalicelib.domain.rules import WindowBet

HISTORY_DAYS = 30


def summarise(bets: list[WindowBet], now: datetime) -> History:
    """The History of a subject whose bets before `now` (the last HISTORY_DAYS) are `bets`."""
    items = [b for b in bets if b.placed_at <= now]
    if not items:
        return History()
    day_ago = now - timedelta(hours=24)
    recent = [b for b in items if b.placed_at >= day_ago]
    last = max(b.placed_at for b in items)
    return History(
        bets_24h=len(recent),
        stake_24h_minor=sum(b.stake_minor for b in recent),
        bets_30d=len(items),
        stake_30d_minor=sum(b.stake_minor for b in items),
        max_stake_30d_minor=max(b.stake_minor for b in items),
        days_active_30d=len({b.placed_at.date() for b in items}),
        seconds_since_last_bet=max(0.0, (now - last).total_seconds()),
        distinct_shops_24h=len({b.shop_id for b in recent if b.shop_id}),
    )
