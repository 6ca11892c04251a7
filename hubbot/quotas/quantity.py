"""Kubernetes quantities (``500m``, ``64``, ``256Gi``) as the API server reads and writes them
in a ResourceQuota: parsed like apimachinery's ``resource.ParseQuantity``, rounded up to
millis as ``SetDefaults_ResourceList`` does, and written back in the API's canonical form
(``1.5`` is served as ``1500m``, ``2048Ki`` as ``2Mi``; a value already written canonically is
served as it was sent). ``tests/test_namespace_quota_contract.py`` holds this to a real API server.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Literal

FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
NUMERIC = "unable to parse numeric part of quantity"
SUFFIX = "unable to parse quantity's suffix"

Format = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = {exponent: suffix for suffix, exponent in _BINARY.items()}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_DIGITS = set("0123456789")
_MAX_INT64 = 2**63 - 1
_NANO, _MILLI = -9, -3  # exponents
# Exact arithmetic for any amount that can be written: Go's big decimals do not round.
_EXACT = Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN)


class QuantityError(ValueError):
    """Not a quantity; ``str()`` is the API server's own reason."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount as the API server holds it. ``text`` is what it serves when the value was sent
    in a form it keeps (``+5`` and ``1.500`` are kept; ``1.5`` is not)."""

    amount: Decimal
    format: Format
    text: str = ""

    def __str__(self) -> str:
        if self.text:
            return self.text
        with localcontext(_EXACT):
            return _canonical(self.amount, self.format)


def parse(text: str) -> Quantity:
    """``text`` as the API server reads a quantity in a ResourceQuota (rounded up to millis);
    raises :class:`QuantityError` with the server's reason."""
    with localcontext(_EXACT):
        # Only spaces: JSON escapes every other whitespace character, and the server trims the raw text.
        return _milli(_parse(text.strip(" ")))


def _parse(text: str) -> Quantity:
    if not text:
        raise QuantityError(FORMAT_WRONG)
    if text == "0":
        return Quantity(Decimal(0), "DecimalSI", "0")
    positive, value, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    precision, scale, mantissa = 0, 0, 1
    if fmt == "BinarySI":
        if exponent >= 0 and not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = 18 - (len(num) + len(denom))
    if precision >= 0:
        scale -= len(denom)
        shifted = num + denom
        result = int(shifted) * mantissa
        if scale >= -9 and result <= _MAX_INT64:
            amount = Decimal(result if positive else -result).scaleb(scale)
            kept = (exponent % 10 == 0 and int(shifted) & 7 != 0) if fmt == "BinarySI" else (
                scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0")
            return Quantity(amount, fmt, text if kept else "")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise QuantityError(NUMERIC) from None
    amount = amount.scaleb(exponent) if base == 10 else amount * (2**exponent)
    sign = -1 if amount < 0 else 1
    amount = _round_up(abs(amount), _NANO)
    if fmt == "BinarySI" and amount > _MAX_INT64:
        amount = Decimal(_MAX_INT64)
    if fmt == "BinarySI" and 0 < amount < 1:
        fmt = "DecimalSI"
    return Quantity(amount * sign, fmt)


def _round_up(amount: Decimal, exponent: int) -> Decimal:
    """``amount`` rounded away from zero to a multiple of ``10**exponent``."""
    held = amount.as_tuple().exponent
    assert isinstance(held, int)  # a finite amount
    return amount if held >= exponent else amount.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_UP)


def _milli(quantity: Quantity) -> Quantity:
    """Round up to millis (``SetDefaults_ResourceList``), forgetting the text sent if that changed it."""
    rounded = _round_up(quantity.amount, _MILLI)
    return quantity if rounded == quantity.amount else Quantity(rounded, quantity.format)


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """Sign, number as written, integer digits, fraction digits and suffix (apimachinery's
    ``parseQuantityString``)."""
    positive, pos, end = True, 0, len(text)
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    if pos >= end:
        return positive, text, num, "", ""
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value, suffix_start = text[:pos], pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(FORMAT_WRONG)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], "DecimalSI"
    if suffix in _BINARY:
        return 2, _BINARY[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[2:] if suffix[1] in "+-" else suffix[1:]
        if digits and set(digits) <= _DIGITS and abs(int(suffix[1:])) <= _MAX_INT64:
            return 10, (int(suffix[1:]) + 2**31) % 2**32 - 2**31, "DecimalExponent"  # Go keeps an int32
    raise QuantityError(SUFFIX)


def _canonical(amount: Decimal, fmt: Format) -> str:
    """apimachinery's ``CanonicalizeBytes``: base 10 with an exponent that is a multiple of 3, or
    base 1024 for binary amounts that are whole numbers of at least 1024."""
    if not amount:
        return "0"
    if fmt == "BinarySI" and (-1024 < amount < 1024 or amount != amount.to_integral_value()):
        fmt = "DecimalSI"
    if fmt == "BinarySI":
        mantissa, power = int(amount), 0
        while abs(mantissa) >= 1024 and mantissa % 1024 == 0:
            mantissa //= 1024
            power += 10
        return f"{mantissa}{_BINARY_SUFFIX.get(power, '')}"
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # a finite amount
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    # Past E (10^18) the API server writes no suffix at all.
    return f"{mantissa}{_DECIMAL_SUFFIX.get(exponent, '')}"
