"""Audit events: who did what to which record, when, with the record before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEvent(BaseModel):
    at: datetime
    actor: str
    action: str
    entity: str = Field(description="e.g. 'rule:velocity_customer', 'writer:w-1a2b'")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None
