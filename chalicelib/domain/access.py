"""Who is calling: roles and principals (API keys for tills and the website, staff users)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ingest = "ingest"
    staff = "staff"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    id: str  # "key:<key id>:<name>" or "user:<username>"
    role: Role
    kind: str  # "api_key" or "user"

    def may(self, *roles: Role) -> bool:
        """Admin may do everything."""
        return self.role is Role.admin or self.role in roles
