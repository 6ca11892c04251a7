"""The words of ``/hub estimate``: ``users=N [hours=H] [size=NAME | cpu=C memory=M] [storage=GiB]
[provider=aws|gcp|jetstream2] [region=R] [tier=T]``, checked strictly, each error saying the valid
choices; the rest comes from the menu's estimate defaults."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hubbot.domain import units
from hubbot.errors import UsageError
from hubbot.fleet.menu import PlansConfig
from hubbot.plans.estimate import Ask

PROVIDERS = ("aws", "gcp", "jetstream2")
KEYS = ("users", "hours", "size", "cpu", "memory", "storage", "provider", "region", "tier")
MAX_USERS = 100_000


@dataclass(frozen=True, slots=True)
class Question:
    ask: Ask
    provider: str | None  # None: the menu's default (or every provider, with --compare)
    region: str | None


def _number(key: str, text: str, *, low: Decimal, high: Decimal, whole: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{key}={text[:20]} is not a number") from None
    if not value.is_finite() or value < low or value > high or (whole and value != value.to_integral_value()):
        kind = "a whole number" if whole else "a number"
        raise UsageError(f"{key} must be {kind} from {low} to {high:,}, not {text[:20]}")
    return value


def parse(words: list[str], plans: PlansConfig) -> Question:
    given: dict[str, str] = {}
    for word in words:
        key, eq, value = word.partition("=")
        key = key.lower()
        if not eq or not value:
            raise UsageError(f"'{word[:30]}' is not key=value (keys: {', '.join(KEYS)})")
        if key not in KEYS:
            raise UsageError(f"unknown '{key[:20]}' (keys: {', '.join(KEYS)})")
        if key in given:
            raise UsageError(f"{key} is given twice")
        given[key] = value
    if "users" not in given:
        raise UsageError("say how many users: users=N (monthly active users)")
    users = int(_number("users", given["users"], low=Decimal(1), high=Decimal(MAX_USERS), whole=True))
    defaults = plans.estimates
    hours = _number("hours", given["hours"], low=Decimal(1), high=Decimal(744)) if "hours" in given \
        else defaults.hours
    storage = _number("storage", given["storage"], low=Decimal(0), high=Decimal(10000)) if "storage" in given \
        else defaults.storage_gib
    if "size" in given and ("cpu" in given or "memory" in given):
        raise UsageError("give either size=NAME or cpu= and memory=, not both")
    if ("cpu" in given) != ("memory" in given):
        raise UsageError("a size given by hand needs both cpu= and memory= (e.g. cpu=1 memory=4GiB)")
    if "cpu" in given:
        cpu = units.parse_cpu(given["cpu"])
        memory = units.gib(units.parse_size(given["memory"], "memory"))
        if cpu > 64 or memory > 512:
            raise UsageError("a user's server of more than 64 CPU or 512 GiB is not something to estimate here")
        size = f"cpu={cpu} memory={given['memory']}"
    else:
        size = given.get("size", defaults.size)
        found = plans.sizes.get(size)
        if found is None:
            raise UsageError(f"unknown size '{size[:30]}' (sizes: {', '.join(plans.sizes)}; or cpu= and memory=)")
        cpu, memory = found.cpu, units.gib(units.parse_size(found.memory, "memory"))
    provider = given.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise UsageError(f"unknown provider '{provider[:20]}' (providers: {', '.join(PROVIDERS)})")
    tier = None
    if "tier" in given:
        tier = plans.tier(given["tier"])
        if tier is None:
            raise UsageError(f"unknown tier '{given['tier'][:30]}' (tiers: {', '.join(t.name for t in plans.tiers)})")
    ask = Ask(users=users, hours=hours, cpu=cpu, memory_gib=memory, storage_gib=storage, size=size, tier=tier)
    return Question(ask=ask, provider=provider, region=given.get("region"))
