"""The live feed and the risk feed: records newest first with filters, a cursor to page back and
a since-cursor to poll for new ones; each row shows the customer's client category.

Every answer carries a since-cursor, an empty one too: the position up to which everything has
been read (the newest row, or "now" less SETTLE when that is later). A poll then reads only the
hour buckets since the previous poll, so its cost stays the same however long a filter has been
quiet (before, a quiet filter had no cursor and each poll re-read every hour since the last match).
SETTLE leaves room for a write whose position was taken before it committed: a row positioned up
to that long ago that commits late is still found by the next poll, and never returned twice (the
cursor is never older than a row already returned)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.domain.feed import FeedFilter, FeedRow
from chalicelib.domain.subjects import WATCHED, ClientCategory, SubjectRef
from chalicelib.ports import FeedStore, SubjectStore

MAX_HOURS = 24 * 7
RISK_LEVELS = ("high", "critical")
MAX_ROUNDS = 10
LEAD = timedelta(minutes=5)  # tills' clocks run a little fast
SETTLE = timedelta(seconds=60)


class FeedReader:
    def __init__(self, feed: FeedStore, subjects: SubjectStore, clock: Clock = utcnow):
        self.feed, self.subjects = feed, subjects
        self.clock = clock

    def _categorised(self, rows: list[FeedRow]) -> list[FeedRow]:
        customers = [SubjectRef.customer(r.customer_id) for r in rows if r.customer_id]
        statuses = self.subjects.statuses(customers) if customers else {}
        for r in rows:
            if r.customer_id and (st := statuses.get(SubjectRef.customer(r.customer_id))):
                r.category = st.category
        return rows

    def page(
        self,
        f: FeedFilter,
        limit: int,
        cursor: str | None = None,
        hours: int = 24,
        category: ClientCategory | None = None,
        risk_only: bool = False,
    ) -> tuple[list[FeedRow], str | None, str | None]:
        """(rows newest first, cursor for the next page, since-cursor for polling)."""
        now = self.clock()
        end = now + LEAD
        start = end - timedelta(hours=min(hours, MAX_HOURS))
        rows: list[FeedRow] = []
        before = cursor
        for _ in range(MAX_ROUNDS):
            got, before = self.feed.page(start, end, before, limit, f)
            rows += [r for r in self._categorised(got) if self._keep(r, category, risk_only)]
            if len(rows) >= limit or before is None:
                break
        rows = rows[:limit]
        nxt = rows[-1].cursor if len(rows) == limit else before
        if cursor is not None:
            return rows, nxt, None  # an older page: poll with the first page's since
        # Everything up to `end` newer than the first row has been read (none was there): the
        # cursor for polling is the newest row, or now less SETTLE when that is later.
        return rows, nxt, self.feed.mark(now - SETTLE, rows[0].cursor if rows else None)

    def newer(
        self, f: FeedFilter, since: str, limit: int, category: ClientCategory | None = None, risk_only: bool = False
    ) -> tuple[list[FeedRow], str]:
        """Rows after `since`, oldest first, and the since-cursor for the next poll."""
        now = self.clock()
        got = self._categorised(self.feed.newer(since, now + LEAD, limit, f))
        if len(got) >= limit:
            last = got[-1].cursor  # more may follow: the next poll goes on from the last row
        else:
            last = self.feed.mark(now - SETTLE, got[-1].cursor if got else since)
        return [r for r in got if self._keep(r, category, risk_only)], last

    @staticmethod
    def _keep(r: FeedRow, category: ClientCategory | None, risk_only: bool) -> bool:
        if category is not None and r.category is not category:
            return False
        return not risk_only or r.risk_level in RISK_LEVELS or r.category in WATCHED
