"""What staff read of the bet files besides bets: a customer's knockbacks, and the SMS requests
nobody could read as a bet (open until staff close them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.intake import KnockbackRecord, SmsRequest, SmsStatus
from chalicelib.domain.rules import WindowKnockback
from chalicelib.domain.subjects import SubjectKind, SubjectRef
from chalicelib.ports import IntakeStore
from chalicelib.services.monitoring import KnockbackSource


def window_knockbacks(store: IntakeStore) -> KnockbackSource:
    """The monitoring service's and profiles' view: a subject's knockbacks between two times."""

    def source(subject: SubjectRef, start: datetime, end: datetime) -> list[WindowKnockback]:
        if subject.kind is not SubjectKind.customer:
            return []
        return [
            WindowKnockback(
                knockback_id=r.knockback_id,
                attempted_at=r.knockback.attempted_at,
                stake_minor=r.knockback.total_stake_minor,
                liability_exceeded=r.knockback.liability_exceeded,
            )
            for r in store.knockbacks(subject.id, start, end)
        ]

    return source


class IntakeDesk:
    def __init__(self, store: IntakeStore, clock: Clock = utcnow):
        self.store = store
        self.clock = clock

    def knockbacks(self, customer_id: str, days: int) -> list[KnockbackRecord]:
        """Newest first."""
        now = self.clock()
        found = self.store.knockbacks(customer_id, now - timedelta(days=days), now + timedelta(minutes=5))
        return sorted(found, key=lambda r: (r.knockback.attempted_at, r.knockback_id), reverse=True)

    def knockback(self, knockback_id: str) -> KnockbackRecord:
        found = self.store.knockback(knockback_id)
        if found is None:
            raise NotFound(f"knockback {knockback_id} not found")
        return found.record

    def sms(self, wager_number: str) -> SmsRequest:
        found = self.store.sms(wager_number)
        if found is None:
            raise NotFound(f"SMS request {wager_number} not found")
        return found.request

    def open_sms(self, limit: int, cursor: str | None) -> tuple[list[SmsRequest], str | None]:
        return self.store.open_sms(limit, cursor)

    def close_sms(self, wager_number: str, actor: str, note: str, bet_id: str | None = None) -> SmsRequest:
        """Staff dealt with an open request (placed it by hand as `bet_id`, called the customer, ...)."""
        request = self.sms(wager_number)
        if request.status is not SmsStatus.open:
            raise Conflict(f"SMS request {wager_number} is {request.status.value}, not open", code="not_open")
        closed = request.model_copy(
            update={
                "status": SmsStatus.closed,
                "closed_by": actor,
                "closed_at": self.clock(),
                "note": note,
                "bet_id": bet_id,
            }
        )
        if not self.store.update_sms(closed, SmsStatus.open):
            raise Conflict(f"SMS request {wager_number} changed meanwhile; read it again", code="concurrent_change")
        return closed
