"""Customer and writer profiles: running totals, rolling windows, links and slips."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.errors import NotFound
from chalicelib.domain.subjects import Profile, SubjectRef
from chalicelib.ports import SubjectStore

WINDOWS = (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))


@dataclass(frozen=True)
class Window:
    bets: int
    stake_minor: int


@dataclass(frozen=True)
class SubjectSummary:
    profile: Profile
    windows: dict[str, Window]
    linked: list[SubjectRef] = field(default_factory=list)
    slips: list[str] = field(default_factory=list)


class ProfileReader:
    def __init__(self, subjects: SubjectStore, clock: Clock = utcnow):
        self.subjects = subjects
        self.clock = clock

    def summary(self, ref: SubjectRef) -> SubjectSummary:
        profile = self.subjects.profile(ref)
        if profile is None:
            raise NotFound(f"{ref.kind.value} {ref.id} not found")
        now = self.clock()
        bets = self.subjects.bets_between(ref, now - WINDOWS[-1][1], now)
        windows = {}
        for label, delta in WINDOWS:
            sel = [b for b in bets if b.placed_at >= now - delta]
            windows[label] = Window(bets=len(sel), stake_minor=sum(b.stake_minor for b in sel))
        return SubjectSummary(
            profile=profile,
            windows=windows,
            linked=sorted(self.subjects.links(ref)),
            slips=sorted(self.subjects.slips(ref)),
        )
