"""Strict parsing of the amounts a quota is set in, and the normalised form echoed back.

Sizes need a unit (``20GiB``, ``500MB``, ``256Gi``: binary and decimal units both, never a bare
number, so nobody sets 20 bytes meaning 20 GiB); CPU is cores (``64``, ``0.5``) or millicores
(``500m``); a rolling window is hours or days (``720h``, ``30d``). Anything else is refused with
the forms that are accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hubbot.errors import UsageError

GIB = 1024**3
_SIZE_UNITS: dict[str, int] = {
    "KiB": 1024, "MiB": 1024**2, "GiB": GIB, "TiB": 1024**4,
    "Ki": 1024, "Mi": 1024**2, "Gi": GIB, "Ti": 1024**4,
    "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
    "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
}
_AMOUNT = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>[A-Za-z]*)$")
_WINDOW = re.compile(r"^(?P<number>\d+)(?P<unit>[hd])$")
SIZE_FORMS = "a number with a unit: GiB, MiB, TiB (or Gi, Mi, Ti) or GB, MB, TB, e.g. 20GiB"
CPU_FORMS = "cores (64, 0.5) or millicores (500m)"
WINDOW_FORMS = "hours or days, e.g. 720h or 30d"


def _number(text: str, what: str, forms: str) -> tuple[Decimal, str]:
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        shown = text[:30]
        if shown.startswith("-"):
            raise UsageError(f"{what} cannot be negative ('{shown}')")
        raise UsageError(f"'{shown}' is not a {what}: give {forms}")
    try:
        return Decimal(match["number"]), match["unit"]
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise UsageError(f"'{text[:30]}' is not a {what}: give {forms}") from None


def parse_size(text: str, what: str = "size") -> int:
    """Bytes, from an amount with a unit; at least 1 MiB."""
    number, unit = _number(text, what, SIZE_FORMS)
    if unit not in _SIZE_UNITS:
        hint = f"'{unit}' is not a unit hubbot reads" if unit else "a size needs a unit"
        raise UsageError(f"{hint} ('{text[:30]}'): give {SIZE_FORMS}")
    size = int(number * _SIZE_UNITS[unit])
    if size < 1024**2:
        raise UsageError(f"{what} {text[:30]} is too small: at least 1MiB")
    return size


def parse_cpu(text: str) -> Decimal:
    """Cores, from cores or millicores; at least 1 millicore."""
    number, unit = _number(text, "CPU amount", CPU_FORMS)
    if unit not in ("", "m"):
        raise UsageError(f"'{text[:30]}' is not a CPU amount: give {CPU_FORMS}")
    cores = number / 1000 if unit == "m" else number
    if cores < Decimal("0.001") or cores != cores.quantize(Decimal("0.001")):
        raise UsageError(f"CPU {text[:30]} is not a whole number of millicores (at least 1m)")
    return cores.normalize()


def parse_window(text: str) -> int:
    """Days, from hours (a whole number of days) or days; between 1 and 366 days."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"'{text[:30]}' is not a window: give {WINDOW_FORMS}")
    amount = int(match["number"])
    if match["unit"] == "h":
        if amount % 24:
            raise UsageError(f"a window of {amount}h is not a whole number of days: give it in days (e.g. 30d)")
        amount //= 24
    if not 1 <= amount <= 366:
        raise UsageError(f"a window is between 1 and 366 days, not {text[:30]}")
    return amount


@dataclass(frozen=True, slots=True)
class HoursPerWindow:
    """A compute allowance: ``hours`` (CPU-hours, or memory GiB-hours) per rolling ``days``."""

    hours: Decimal
    days: int


def parse_allowance(text: str, what: str) -> HoursPerWindow:
    """``500/30d`` → 500 hours per rolling 30 days."""
    amount, slash, window = text.partition("/")
    if not slash:
        raise UsageError(f"give {what} as hours per window, e.g. {what}=500/30d")
    number, unit = _number(amount, f"number of {what}", "a number of hours, e.g. 500")
    if unit:
        raise UsageError(f"'{amount[:30]}' is not a number of hours: give it without a unit, e.g. {what}=500/30d")
    if number <= 0:
        raise UsageError(f"{what} must be more than 0 (to stop all use, remove the group's access instead)")
    return HoursPerWindow(hours=number.normalize(), days=parse_window(window))


def size_text(size: int) -> str:
    """``20 GiB``, ``1.5 GiB``, ``512 MiB``; a decimal-unit input is shown in binary units."""
    for unit, factor in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2)):
        if size >= factor:
            value = Decimal(size) / factor
            return f"{plain(value.quantize(Decimal('0.01')))} {unit}"
    return f"{size} bytes"


def gib(size: int) -> Decimal:
    """Bytes as GiB, to two decimals (how jupyterhub-home-nfs takes its quotas)."""
    return _plain_decimal((Decimal(size) / GIB).quantize(Decimal("0.01")))


def cpu_text(cores: Decimal) -> str:
    whole = cores == cores.to_integral_value()
    return f"{plain(cores)} core{'' if cores == 1 else 's'}" + ("" if whole else f" ({int(cores * 1000)}m)")


def kube_cpu(cores: Decimal) -> str:
    """CPU as Kubernetes writes it: ``64`` or ``500m``."""
    return plain(cores) if cores == cores.to_integral_value() else f"{int(cores * 1000)}m"


def kube_size(size: int) -> str:
    """Bytes as a Kubernetes quantity: ``256Gi`` when whole, else ``...Mi`` or bytes."""
    for unit, factor in (("Ti", 1024**4), ("Gi", GIB), ("Mi", 1024**2), ("Ki", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def window_text(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def allowance_text(allowance: HoursPerWindow, resource: str) -> str:
    return f"{plain(allowance.hours)} {resource} per {window_text(allowance.days)}"


def _plain_decimal(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


def plain(value: Decimal) -> str:
    return f"{_plain_decimal(value):f}"
