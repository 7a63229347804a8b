"""Customer and writer profiles: running totals, rolling windows, links and slips."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.domain.subjects import ClientCategory, Profile, SubjectRef, SubjectStatus
from chalicelib.ports import SubjectStore
from chalicelib.services.monitoring import KnockbackSource, segment_of_bets

WINDOWS = (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))


@dataclass(frozen=True)
class Window:
    bets: int
    stake_minor: int
    settled_bets: int = 0  # of the window's bets, those settled
    profit_minor: int = 0  # their settled P/L, the customer's side (negative: a loss)
    knockbacks: int = 0

    @property
    def kb_pct(self) -> float:
        """Knockbacks as a % of bets + knockbacks (the operator's KB %)."""
        return round(100 * self.knockbacks / (self.bets + self.knockbacks), 1) if self.knockbacks else 0.0


@dataclass(frozen=True)
class SubjectSummary:
    profile: Profile
    windows: dict[str, Window]
    linked: list[SubjectRef] = field(default_factory=list)
    slips: list[str] = field(default_factory=list)
    status: SubjectStatus = field(default_factory=SubjectStatus)
    segment: int | None = None
    segment_name: str | None = None


class ProfileReader:
    def __init__(self, subjects: SubjectStore, clock: Clock = utcnow, knockbacks: KnockbackSource | None = None):
        self.subjects = subjects
        self.clock = clock
        self.knockbacks = knockbacks

    def summary(self, ref: SubjectRef) -> SubjectSummary:
        profile = self.subjects.profile(ref)
        if profile is None:
            raise NotFound(f"{ref.kind.value} {ref.id} not found")
        now = self.clock()
        bets, status = self.subjects.recent(ref, now - WINDOWS[-1][1], now)
        kbs = self.knockbacks(ref, now - WINDOWS[-1][1], now) if self.knockbacks and profile.knockbacks_total else []
        windows = {}
        for label, delta in WINDOWS:
            sel = [b for b in bets if b.placed_at >= now - delta]
            settled = [b.profit_minor for b in sel if b.profit_minor is not None]
            kb = sum(1 for k in kbs if k.attempted_at >= now - delta)
            windows[label] = Window(
                bets=len(sel), stake_minor=sum(b.stake_minor for b in sel),
                settled_bets=len(settled), profit_minor=sum(settled), knockbacks=kb,
            )  # fmt: skip
        segment = segment_of_bets(bets)
        return SubjectSummary(
            profile=profile,
            windows=windows,
            linked=sorted(self.subjects.links(ref)),
            slips=sorted(self.subjects.slips(ref)),
            status=status,
            segment=segment,
            segment_name=segment_name(segment),
        )

    # --- staff decisions about customers ------------------------------------------------------

    def set_category(self, customer_id: str, category: ClientCategory, reason: str, actor: str) -> SubjectStatus:
        ref = SubjectRef.customer(customer_id)
        before = self.subjects.status(ref)
        after = replace(before, category=category, category_reason=reason, category_by=actor,
                        category_at=self.clock().isoformat())  # fmt: skip
        self.subjects.set_status(ref, after, self._audit(ref, actor, "category_set", before, after, reason))
        return after

    def whitelist(self, customer_id: str, until: datetime, reason: str, actor: str) -> SubjectStatus:
        """Scores of the customer's bets within its usual range are damped until `until` (audited)."""
        if until <= self.clock():
            raise Invalid("until: must be in the future")
        ref = SubjectRef.customer(customer_id)
        before = self.subjects.status(ref)
        after = replace(before, whitelisted_until=until.isoformat(), whitelist_reason=reason, whitelist_by=actor)
        self.subjects.set_status(ref, after, self._audit(ref, actor, "whitelisted", before, after, reason))
        return after

    def clear_whitelist(self, customer_id: str, actor: str) -> SubjectStatus:
        ref = SubjectRef.customer(customer_id)
        before = self.subjects.status(ref)
        after = replace(before, whitelisted_until=None, whitelist_reason=None, whitelist_by=None)
        self.subjects.set_status(ref, after, self._audit(ref, actor, "whitelist_removed", before, after, None))
        return after

    def audit(self, ref: SubjectRef) -> list[AuditEvent]:
        return self.subjects.audit(ref)

    def _audit(
        self, ref: SubjectRef, actor: str, action: str, before: SubjectStatus, after: SubjectStatus, note: str | None
    ) -> AuditEvent:
        return AuditEvent(
            at=self.clock(), actor=actor, action=action, entity=f"{ref.kind.value}:{ref.id}",
            before=_jsonable(before), after=_jsonable(after), note=note,
        )  # fmt: skip


def _jsonable(status: SubjectStatus) -> dict[str, object]:
    d = asdict(status)
    d["category"] = status.category.value
    return d


def segment_name(segment: int | None) -> str | None:
    if segment is None:
        return None
    from chalicelib.risk.segments import describe

    found = describe(segment)
    return str(found["name"]) if found else None
