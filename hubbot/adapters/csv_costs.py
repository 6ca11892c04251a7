"""Daily costs from a CSV file, for providers hubbot cannot query (or for trying hubbot out).

Each row is ``date,hub,amount,currency[,service]``:

- ``date``: the day, ``YYYY-MM-DD``;
- ``hub``: the hub tag; empty or ``shared`` for costs no one hub owns;
- ``amount``: a decimal number; negative amounts (credits, refunds) are allowed;
- ``currency``: three upper-case letters (``USD``) or ``SU``; empty means the source's default;
- ``service``: optional, ``all`` when absent or empty.

A first row starting with ``date`` is a header and is skipped, as are blank rows and rows
starting with ``#``. The lines are final figures (never ``estimated``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hubbot.domain import CostBatch, CostLine
from hubbot.errors import UserError

_CURRENCY = re.compile(r"^([A-Z]{3}|SU)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COLUMNS = "date,hub,amount,currency[,service]"
_SHARED = "shared"


class CsvCostSource:
    """The :class:`hubbot.ports.CostSource` reading one CSV file (see the module docstring).

    The file is read afresh on every ``fetch`` (in a worker thread), so edits show up without
    a restart. Every row is checked, even those outside the requested days: a problem raises
    :class:`UserError` naming the file, the line and what to fix. ``requests`` is always 0.
    ``path`` is used as given; resolve a config-relative path before passing it in.
    """

    def __init__(self, path: Path | str, *, currency: str = "USD") -> None:
        if not _CURRENCY.match(currency):
            raise UserError(f"default currency {currency!r} for {path} must be three upper-case letters or SU")
        self.path = Path(path)
        self.currency = currency

    def __repr__(self) -> str:
        return f"CsvCostSource({str(self.path)!r}, currency={self.currency!r})"

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """The file's lines for ``start <= day < end``, in file order."""
        lines = await asyncio.to_thread(read_cost_csv, self.path, currency=self.currency)
        return CostBatch(lines=[line for line in lines if start <= line.day < end], requests=0)


def read_cost_csv(path: Path, *, currency: str = "USD") -> list[CostLine]:
    """Every cost line in ``path``; ``currency`` fills empty currency cells.

    Raises :class:`UserError` for a missing or unreadable file and for the first bad row.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"cost file not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"cost file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read cost file {path}: {exc.strerror or type(exc).__name__}") from None
    lines: list[CostLine] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    first = True
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if first and cells[0].casefold() == "date":
                first = False
                continue
            first = False
            lines.append(_line(cells, currency, f"{path}, line {reader.line_num}"))
    except csv.Error as exc:
        raise UserError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None
    return lines


def _line(cells: list[str], default_currency: str, where: str) -> CostLine:
    if len(cells) < 4:
        raise UserError(f"{where}: missing column(s): expected {_COLUMNS}, found {len(cells)} column(s)")
    if len(cells) > 5:
        raise UserError(f"{where}: too many columns: expected {_COLUMNS}, found {len(cells)}")
    day_text, hub, amount_text, currency = cells[:4]
    service = cells[4] if len(cells) == 5 and cells[4] else "all"
    try:
        if not _DATE.match(day_text):  # fromisoformat alone also takes 20260131 and week dates
            raise ValueError(day_text)
        day = date.fromisoformat(day_text)
    except ValueError:
        raise UserError(f"{where}: date {day_text!r} is not a date like 2026-01-31") from None
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise UserError(f"{where}: amount {amount_text!r} is not a number (use digits and a dot, like 12.50)") from None
    if not amount.is_finite():
        raise UserError(f"{where}: amount {amount_text!r} is not a finite number")
    currency = currency or default_currency
    if not _CURRENCY.match(currency):
        raise UserError(f"{where}: currency {currency!r} must be three upper-case letters (like USD) or SU")
    hub_tag = None if not hub or hub.casefold() == _SHARED else hub
    return CostLine(day=day, hub_tag=hub_tag, service=service, amount=amount, currency=currency, estimated=False)
