"""The service menu's changes, in the audit log: the first time any replica runs with a version of
the menu (its version, date and tiers), that is written down once, with what changed."""

from __future__ import annotations

import hashlib
import json

from hubbot.domain import AuditEntry, Outcome
from hubbot.fleet.menu import PlansConfig
from hubbot.ports import Services


def fingerprint(plans: PlansConfig) -> str:
    return hashlib.sha256(json.dumps(plans.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]


async def note_menu(services: Services, plans: PlansConfig | None, *, source: str) -> bool:
    """Audit the menu the first time it is seen; whether it was new."""
    if plans is None:
        return False
    now = services.clock.now()
    if not await services.events.first_time(f"plans:{fingerprint(plans)}", at=now):
        return False
    tiers = ", ".join(f"{t.name} {t.monthly:,.2f} {plans.currency}/month" for t in plans.tiers)
    await services.audit.record(AuditEntry(
        at=now, user="hubbot", channel="", transport="config", command="plans",
        args=f"version {plans.version} of {plans.date}", outcome=Outcome.CHANGED,
        detail=f"service menu {plans.version} ({plans.date}) from {source}: {tiers}; "
               f"{plans.hourly_rate:,.2f} {plans.currency} an hour"[:500]))
    return True
