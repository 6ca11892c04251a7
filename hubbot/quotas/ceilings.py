"""Whether a community's leader may set a limit: within the ceilings an engineer wrote in the
fleet config (``quota_ceilings``); engineers may set any."""

from __future__ import annotations

from decimal import Decimal

from hubbot.domain import units
from hubbot.domain.units import GIB
from hubbot.errors import NotAllowed, UserError
from hubbot.fleet import QuotaCeilings
from hubbot.quotas.changes import COMPUTE, NAMESPACE_KEYS, Setting
from hubbot.quotas.quantity import parse


def _ceiling(text: str | int, key: str) -> Decimal:
    value = str(text)
    try:
        if key.endswith(".cpu"):
            return units.parse_cpu(value)
        if key.endswith(("memory", "storage")):
            return Decimal(units.parse_size(value))
        return Decimal(int(value))
    except (UserError, ValueError):
        raise UserError(f"the quota ceiling for {key} in the fleet config ('{value[:30]}') cannot be read; an "
                        "engineer has to fix it") from None


def kube_amount(value: str) -> Decimal:
    """A quantity as the Kubernetes API writes it (``6500m``, ``128Gi``, ``134217728``, ``2k``);
    raises :class:`hubbot.quotas.quantity.QuantityError` when it is not one."""
    return parse(value).amount


def check(settings: list[Setting], *, ceilings: QuotaCeilings | None, community: str) -> None:
    """Raise :class:`NotAllowed` naming the first setting above its ceiling (or without one)."""
    by_word = {v: k for k, v in NAMESPACE_KEYS.items()}
    for s in settings:
        if s.value is None:
            continue  # a reset goes back to what the hub's files (reviewed by engineers) say
        ceiling: str | int | None = None
        if s.key == "storage":
            ceiling = ceilings.storage if ceilings else None
            if ceiling is not None and Decimal(s.value) * GIB > _ceiling(ceiling, "storage"):
                raise NotAllowed(f"{s.text} is above the ceiling for {community} ({ceiling}); ask an engineer")
        elif s.key in COMPUTE:
            ceiling = (ceilings.cpu_hours if s.key == "cpu-hours" else ceilings.memory_hours) if ceilings else None
            if ceiling is not None:
                top = units.parse_allowance(str(ceiling), s.key)
                if s.value.hours * top.days > top.hours * s.value.days:
                    raise NotAllowed(f"{s.text} is above the ceiling for {community} ({top.hours} per "
                                     f"{units.window_text(top.days)}, pro rata); ask an engineer")
        else:
            names = ceilings.namespace if ceilings else {}
            word = by_word.get(s.key, s.key)
            ceiling = names.get(word, names.get(s.key))
            if ceiling is not None and kube_amount(str(s.value)) > _ceiling(ceiling, s.key):
                raise NotAllowed(f"{s.text} is above the ceiling for {community} ({ceiling}); ask an engineer")
        if ceiling is None:
            raise NotAllowed(f"no ceiling is set for {s.key} in {community}'s quota_ceilings, so only engineers "
                             "may set it; ask one (or ask them to set a ceiling in the fleet config)")
