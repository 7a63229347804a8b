"""Who is calling: roles, scopes and principals (API keys for tills and the website, staff users)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ingest = "ingest"
    staff = "staff"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    id: str  # "key:<name>" or "user:<username>": who a bet was ingested by
    role: Role
    kind: str  # "api_key" or "user"
    scope: str = ""  # an ingest key's: "shop:<id>", "channel:<channel>", or "" (any shop and channel)

    def may(self, *roles: Role) -> bool:
        """Admin may do everything."""
        return self.role is Role.admin or self.role in roles

    @property
    def reads_only_its_own(self) -> bool:
        """Ingest keys read only the bets they wrote; staff and admins read every bet."""
        return self.role is Role.ingest

    def owns(self, ingested_by: str) -> bool:
        # Stored as "key:<name>" (also "key:<key id>:<name>" before keys were named uniquely).
        if not ingested_by.startswith("key:") or self.kind != "api_key":
            return False
        return ingested_by.rsplit(":", 1)[-1] == self.id.rsplit(":", 1)[-1]

    def scope_refusal(self, shop_id: str | None, channel: str) -> str | None:
        """Why this key may not record a bet for this shop and channel (None: it may)."""
        kind, _, value = self.scope.partition(":")
        if kind == "shop" and shop_id != value:
            return f"this API key records bets for shop {value} only"
        if kind == "channel" and channel != value:
            return f"this API key records {value} bets only"
        return None
