"""Subjects: whom betting is aggregated and monitored for (customers, anonymous writers, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SubjectKind(StrEnum):
    customer = "customer"
    writer = "writer"  # an anonymous hand, linked by its slips
    shop = "shop"
    device = "device"
    selection = "selection"  # what was backed (bet runs)


@dataclass(frozen=True, order=True)
class SubjectRef:
    kind: SubjectKind
    id: str

    @classmethod
    def customer(cls, customer_id: str) -> SubjectRef:
        return cls(SubjectKind.customer, customer_id)

    @classmethod
    def writer(cls, writer_id: str) -> SubjectRef:
        return cls(SubjectKind.writer, writer_id)

    def describe(self) -> str:
        """For people: 'customer C100', 'anonymous writer w-1a2b'."""
        return f"anonymous writer {self.id}" if self.kind is SubjectKind.writer else f"{self.kind.value} {self.id}"


@dataclass(frozen=True)
class Profile:
    """A subject's running totals since its first bet."""

    subject: SubjectRef
    bets_total: int
    stake_total_minor: int
    first_bet_at: str | None = None
    settled_bets: int = 0  # bets settled against results (services/settlement.py)
    profit_total_minor: int = 0  # the customer's side: returns - stakes of settled bets
    knockbacks_total: int = 0  # bets the operator refused (bet files' knockbacks)


class ClientCategory(StrEnum):
    """What staff decided about a customer (BetMonitor's client categories)."""

    none = "none"
    watchlist = "watchlist"
    restricted_stake = "restricted_stake"
    price_only = "price_only"  # no offers
    vip = "vip"
    new_registration = "new_registration"
    self_excluded = "self_excluded"


# Categories whose bets staff watch in the risk feed.
WATCHED = (ClientCategory.watchlist, ClientCategory.restricted_stake, ClientCategory.self_excluded)


@dataclass(frozen=True)
class SubjectStatus:
    """Staff decisions about a subject that scoring and rules read with its history."""

    category: ClientCategory = ClientCategory.none
    category_reason: str | None = None
    category_by: str | None = None
    category_at: str | None = None
    whitelisted_until: str | None = None  # the opposite of the watchlist: scores damped until then
    whitelist_reason: str | None = None
    whitelist_by: str | None = None
