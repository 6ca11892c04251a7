"""A tier's service fee for a month: its monthly fee (or a twelfth of its yearly one) plus the fee
per monthly active user, band by band."""

from __future__ import annotations

from decimal import Decimal

from hubbot.fleet.menu import TierConfig


def user_fees(tier: TierConfig, users: int) -> Decimal:
    """What ``users`` monthly active users add: each band charges the users that fall in it."""
    total, below = Decimal(0), 0
    for band in tier.user_bands:
        top = users if band.up_to is None else min(users, band.up_to)
        if top > below:
            total += (top - below) * band.per_user
        if band.up_to is None or band.up_to >= users:
            break
        below = band.up_to
    return total


def monthly_fee(tier: TierConfig, users: int) -> Decimal:
    return tier.monthly + user_fees(tier, users)


def bands_text(tier: TierConfig, currency: str) -> str:
    """``first 100: free; 101–1,000: 2.00 USD each; above 1,000: 1.00 USD each``."""
    parts, below = [], 0
    for band in tier.user_bands:
        each = "free" if band.per_user == 0 else f"{band.per_user:,.2f} {currency} each"
        if band.up_to is None:
            who = f"above {below:,}" if below else "every user"
        elif below == 0:
            who = f"first {band.up_to:,}"
        else:
            who = f"{below + 1:,}–{band.up_to:,}"
        parts.append(f"{who}: {each}")
        below = band.up_to or below
    return "; ".join(parts) or "no fee per user"
