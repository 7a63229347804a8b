"""Records back to the operator's text, in the canonical spelling: for fixtures, docs and round-trip tests."""

from __future__ import annotations

from chalicelib.domain.betfiles.models import Knockback, SmsWager, WebsiteBet
from chalicelib.domain.bets import BET_SHAPES
from chalicelib.domain.uk_time import LONDON


def _pounds(minor: int) -> str:
    return f"£{minor // 100}.{minor % 100:02d}"


def render_website_bet(bet: WebsiteBet) -> str:
    header = f"Wager Number - {bet.wager_number} / Customer Reference - {bet.customer_ref}"
    if bet.risk_category:
        header += f" / Customer Risk Category - {bet.risk_category}"
    out = [header, f"Bet placed on {bet.placed_at.astimezone(LONDON):%d/%m/%Y %H:%M:%S}"]
    for s in bet.selections:
        event = f"{s.meeting}, {s.race_time}," if s.race_time else f"{s.meeting},"
        out.append(f"{event} - {s.selection} at {s.price}")
    _, count = BET_SHAPES[bet.bet_type]
    mode = "Each Way" if bet.each_way else "Win Only"
    unit, stake = int(bet.unit_stake.scaleb(2)), int(bet.stake.scaleb(2))
    out.append(f"Bets {mode}: {count} {bet.wager_name}. Unit Stake: {_pounds(unit)}, Payment: {_pounds(stake)}.")
    out.append(f"Wagers : {count} x {_pounds(unit)} : {bet.wager_name}")
    return "\n".join(out) + "\n"


def render_knockback(kb: Knockback) -> str:
    out = [
        f"Knockback Details: {kb.knockback_id}",
        f"Customer Ref: {kb.customer_ref}",
        f"- Error Message: {kb.error_message}",
        f"- Liability Exceeded: {kb.liability_exceeded}",
    ]
    if kb.max_stake_minor is not None:
        out.append(f"- Maximum stake available: {_pounds(kb.max_stake_minor)}")
    out.append(f"{kb.attempted_at.astimezone(LONDON):%d/%m/%Y %H:%M:%S}")
    for s in kb.selections:
        out += [f"- Meeting Name: {s.meeting}", f"- Selection Name: {s.selection}", f"- Bet Price: {s.price}"]
    out += [f"- Wager Name: {kb.wager_name}", f"- Total Stake: {_pounds(kb.total_stake_minor)}"]
    return "\n".join(out) + "\n"


def render_sms_wager(sms: SmsWager) -> str:
    out = [
        f"Wager Number = {sms.wager_number}",
        f"Customer Reference: {sms.customer_ref}",
        f"Mobile Number: {sms.mobile_number}",
    ]
    if sms.received_at is not None:
        out.append(f"Received: {sms.received_at.astimezone(LONDON):%d/%m/%Y %H:%M:%S}")
    out.append(f"SMS Wager Text: {sms.text}")
    return "\n".join(out) + "\n"


def render(record: WebsiteBet | Knockback | SmsWager) -> str:
    if isinstance(record, WebsiteBet):
        return render_website_bet(record)
    if isinstance(record, Knockback):
        return render_knockback(record)
    return render_sms_wager(record)
