"""Reports as files: HTML with inline SVG charts (they render with no network) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from chalicelib.domain.money import format_minor
from chalicelib.domain.reports import Count, DailyReport, SubjectReport, Totals

CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:60rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}table{border-collapse:collapse;margin:.4rem 0}
td,th{border:1px solid #c8ced6;padding:.2rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
.muted{color:#57606a}svg text{font:11px system-ui,sans-serif;fill:#1b1f24}"""


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], width: int = 640, height: int = 200) -> str:
    """A labelled bar chart as inline SVG (accessible: a title and each bar's value in words)."""
    n = max(len(values), 1)
    top = max([*values, 1.0])
    bar_w = (width - 40) / n
    parts = [
        f'<svg role="img" aria-labelledby="t-{id(labels)}" width="{width}" height="{height + 30}" '
        f'viewBox="0 0 {width} {height + 30}">',
        f'<title id="t-{id(labels)}">{escape(title)}</title>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = 0 if top == 0 else (height - 20) * v / top
        x = 30 + i * bar_w
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" fill="#0969da">'
            f"<title>{escape(label)}: {v:g}</title></rect>"
        )
        if n <= 24 or i % max(n // 12, 1) == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height + 14}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="2" y="12">{top:g}</text><text x="2" y="{height}">0</text></svg>')
    return "".join(parts)


def _totals_rows(t: Totals, currency: str) -> list[tuple[str, str]]:
    return [
        ("Bets", f"{t.bets:,}"),
        ("Knockbacks", f"{t.knockbacks:,}"),
        ("KB %", f"{t.kb_pct:.1f}"),
        ("SMS requests", f"{t.sms_requests:,}"),
        ("Total stake", format_minor(t.stake_minor, currency)),
        ("Average stake", format_minor(t.avg_stake_minor, currency)),
        ("Settled bets", f"{t.settled_bets:,}"),
        ("Settled P/L (customers)", format_minor(t.profit_minor, currency)),
    ]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th scope=col>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _counts(title: str, counts: list[Count], currency: str) -> str:
    if not counts:
        return f"<h2>{escape(title)}</h2><p class=muted>None.</p>"
    rows = [(c.key, f"{c.bets:,}", format_minor(c.stake_minor, currency), f"{c.knockbacks:,}") for c in counts]
    return f"<h2>{escape(title)}</h2>" + _table(["", "Bets", "Stake", "Knockbacks"], rows)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>"
    )


def daily_html(r: DailyReport) -> str:
    cur = r.currency
    rows = []
    for name, today in _totals_rows(r.totals, cur):
        this = dict(_totals_rows(r.this_week_daily_avg, cur)).get(name, "") if r.this_week_daily_avg else "–"
        last = dict(_totals_rows(r.last_week_daily_avg, cur)).get(name, "") if r.last_week_daily_avg else "–"
        rows.append((name, today, this, last))
    hours = [f"{h:02d}" for h in range(24)]
    sport = r.by_sport[:12]
    body = [
        f"<h1>betwatch daily report: {escape(r.date)}</h1>",
        f"<p class=muted>Generated {escape(r.generated_at.isoformat())}; money in {escape(cur)}; times UTC.</p>",
        _table(["", "This day", "This week's daily average", "Last week's daily average"], rows),
        "<h2>Bets per hour</h2>",
        bar_chart("Bets per hour (UTC)", hours, r.bets_per_hour),
        "<h2>Bets by sport</h2>",
        bar_chart("Bets by sport", [c.key for c in sport], [c.bets for c in sport]),
        "<h2>Unique clients by category</h2>",
        _table(["Category", "Clients"], [(k, f"{v:,}") for k, v in r.clients_by_category.items()]),
        _counts("By channel", r.by_channel, cur),
        _counts("By shop", r.by_shop, cur),
        _counts("Top customers by stake", r.top_customers_by_stake, cur),
        _counts("Top customers by number of bets", r.top_customers_by_count, cur),
        _counts("Top customers by knockbacks", r.top_customers_by_knockbacks, cur),
        _counts("Top writers by stake", r.top_writers_by_stake, cur),
        _counts("Top writers by number of bets", r.top_writers_by_count, cur),
        "<h2>Alerts by rule</h2>",
        _table(["Rule", "Raised", "Resolved"], [(a.rule_id, str(a.raised), str(a.resolved)) for a in r.alerts_by_rule]),
    ]
    return _page(f"betwatch daily report {r.date}", "".join(body))


def subject_html(r: SubjectReport) -> str:
    cur = r.currency
    days = sorted(r.bets_per_day)
    body = [
        f"<h1>betwatch {escape(r.kind)} report: {escape(r.id)}</h1>",
        f"<p class=muted>{escape(r.since.isoformat())} to {escape(r.until.isoformat())}; category "
        f"{escape(r.category or 'none')}; segment {escape(r.segment_name or '–')}.</p>",
        _table(["", "Period"], _totals_rows(r.totals, cur)),
        "<h2>Bets per day</h2>",
        bar_chart("Bets per day", [d[5:] for d in days], [r.bets_per_day[d] for d in days]),
        "<h2>Bets per hour</h2>",
        bar_chart("Bets per hour (UTC)", [f"{h:02d}" for h in range(24)], r.bets_per_hour),
        _counts("By sport", r.by_sport, cur),
        _counts("By channel", r.by_channel, cur),
        _counts("By shop", r.by_shop, cur),
        "<h2>Alerts</h2>",
        _table(
            ["Alert", "Rule", "Severity", "Status", "Raised"],
            [
                tuple(str(a.get(k, "")) for k in ("alert_id", "rule_id", "severity", "status", "raised_at"))
                for a in r.alerts
            ],
        ),
        f"<h2>Linked</h2><p>{escape(', '.join(r.linked) or 'None.')}</p>",
        f"<h2>Slips</h2><p>{escape(', '.join(r.slips) or 'None.')}</p>",
    ]
    return _page(f"betwatch {r.kind} report {r.id}", "".join(body))


def daily_csv(r: DailyReport) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "bets", "stake_minor", "knockbacks"])
    w.writerow(["totals", r.date, r.totals.bets, r.totals.stake_minor, r.totals.knockbacks])
    for section in ("by_sport", "by_channel", "by_shop", "top_customers_by_stake", "top_writers_by_stake"):
        for c in getattr(r, section):
            w.writerow([section, c.key, c.bets, c.stake_minor, c.knockbacks])
    for h, n in enumerate(r.bets_per_hour):
        w.writerow(["bets_per_hour", f"{h:02d}", n, "", ""])
    for a in r.alerts_by_rule:
        w.writerow(["alerts_by_rule", a.rule_id, a.raised, "", a.resolved])
    return out.getvalue()
