"""The alert's email and SMS texts: what staff read on their phones and in their inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chalicelib.adapters.sns import email_text, sms_text
from chalicelib.domain.alerts import Alert, Metric
from chalicelib.domain.subjects import SubjectRef


def _alert(raised_at: datetime) -> Alert:
    return Alert(
        alert_id="al-1",
        rule_id="stake-24h",
        subject=SubjectRef.customer("C1"),
        severity="high",
        title="Customer stake over £500.00 in 24 h",
        detail="£530.00 staked",
        metric=Metric(name="stake", value=53_000, threshold=50_000, unit="minor_units"),
        raised_at=raised_at,
    )


def test_the_email_gives_the_time_raised_in_the_apis_format() -> None:
    # Raised at 15:25 in a +01:00 zone: the email says 14:25 UTC, spelt as the API spells times.
    text = email_text(_alert(datetime(2026, 11, 22, 15, 25, tzinfo=timezone(timedelta(hours=1)))))
    assert "Raised: 2026-11-22T14:25:00Z\n" in text
    assert "+00:00" not in text


def test_the_sms_is_one_message() -> None:
    assert (
        len(sms_text(_alert(datetime(2026, 11, 22, 14, 25, tzinfo=UTC)).model_copy(update={"title": "x" * 300}))) == 160
    )
