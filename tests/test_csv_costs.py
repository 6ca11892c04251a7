"""The CSV cost source: parsing, the date range, and a precise error for every bad row."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.csv_costs import CsvCostSource, read_cost_csv
from hubbot.domain import CostLine
from hubbot.errors import UserError

JANUARY = {"start": date(2026, 1, 1), "end": date(2026, 2, 1)}


def write(tmp_path: Path, text: str, name: str = "costs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_rows_with_header_and_service_column(tmp_path: Path) -> None:
    path = write(tmp_path, "date,hub,amount,currency,service\n"
                           "2026-01-02,staging,12.50,USD,compute\n"
                           "2026-01-02,,3.10,USD,storage\n"
                           "2026-01-03,shared,-1.25,USD,\n")
    batch = await CsvCostSource(path).fetch(**JANUARY)
    assert batch.requests == 0
    assert batch.readings == []
    assert batch.lines == [
        CostLine(date(2026, 1, 2), "staging", "compute", Decimal("12.50"), "USD"),
        CostLine(date(2026, 1, 2), None, "storage", Decimal("3.10"), "USD"),
        CostLine(date(2026, 1, 3), None, "all", Decimal("-1.25"), "USD"),
    ]
    assert all(type(line.amount) is Decimal and not line.estimated for line in batch.lines)


async def test_rows_without_header_or_service_column(tmp_path: Path) -> None:
    path = write(tmp_path, "\n# exported by hand\n2026-01-05, prod , 0.1 ,EUR\n2026-01-06,SHARED,7,SU\n\n")
    batch = await CsvCostSource(path).fetch(**JANUARY)
    assert batch.lines == [
        CostLine(date(2026, 1, 5), "prod", "all", Decimal("0.1"), "EUR"),
        CostLine(date(2026, 1, 6), None, "all", Decimal(7), "SU"),
    ]


async def test_empty_currency_takes_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, "2026-01-05,prod,4,\n")
    [line] = (await CsvCostSource(path, currency="GBP").fetch(**JANUARY)).lines
    assert line.currency == "GBP"


async def test_only_days_in_range_start_inclusive_end_exclusive(tmp_path: Path) -> None:
    path = write(tmp_path, "2025-12-31,a,1,USD\n2026-01-01,a,2,USD\n2026-01-31,a,3,USD\n2026-02-01,a,4,USD\n")
    batch = await CsvCostSource(str(path)).fetch(**JANUARY)
    assert [(line.day, line.amount) for line in batch.lines] == [
        (date(2026, 1, 1), Decimal(2)), (date(2026, 1, 31), Decimal(3))]
    assert (await CsvCostSource(path).fetch(start=date(2026, 3, 1), end=date(2026, 4, 1))).lines == []


async def test_file_is_read_afresh_on_every_fetch(tmp_path: Path) -> None:
    path = write(tmp_path, "2026-01-01,a,1,USD\n")
    costs = CsvCostSource(path)
    assert len((await costs.fetch(**JANUARY)).lines) == 1
    path.write_text("2026-01-01,a,1,USD\n2026-01-02,a,1,USD\n")
    assert len((await costs.fetch(**JANUARY)).lines) == 2


def test_byte_order_mark_and_header_from_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes("\ufeffDate,Hub,Amount,Currency\r\n2026-01-02,a,1.5,USD\r\n".encode())
    assert read_cost_csv(path) == [CostLine(date(2026, 1, 2), "a", "all", Decimal("1.5"), "USD")]


@pytest.mark.parametrize(("row", "problem"), [
    ("2026-13-01,a,1,USD", "date '2026-13-01' is not a date"),
    ("01/02/2026,a,1,USD", "date '01/02/2026' is not a date"),
    ("20260102,a,1,USD", "date '20260102' is not a date"),
    ("2026-01-02,a,twelve,USD", "amount 'twelve' is not a number"),
    ("2026-01-02,a,,USD", "amount '' is not a number"),
    ('2026-01-02,a,"1,234.00",USD', "amount '1,234.00' is not a number"),
    ("2026-01-02,a,NaN,USD", "amount 'NaN' is not a finite number"),
    ("2026-01-02,a,1", "missing column"),
    ("2026-01-02", "missing column"),
    ("2026-01-02,a,1,USD,compute,extra", "too many columns"),
    ("2026-01-02,a,1,usd", "currency 'usd' must be three upper-case letters"),
    ("2026-01-02,a,1,$", "currency '\\$' must be three upper-case letters"),
    ("2026-01-02,a,1,DOLLARS", "currency 'DOLLARS' must be"),
])
async def test_bad_row_names_file_line_and_problem(tmp_path: Path, row: str, problem: str) -> None:
    path = write(tmp_path, f"date,hub,amount,currency\n2026-01-01,a,1,USD\n\n{row}\n2026-01-03,a,1,USD\n")
    with pytest.raises(UserError, match=f"^{re.escape(str(path))}, line 4: {problem}"):
        await CsvCostSource(path).fetch(**JANUARY)


async def test_bad_rows_outside_the_range_still_fail(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-01-01,a,oops,USD\n2026-01-01,a,1,USD\n")
    with pytest.raises(UserError, match="line 1: amount 'oops'"):
        await CsvCostSource(path).fetch(**JANUARY)


async def test_header_only_in_the_first_row(tmp_path: Path) -> None:
    path = write(tmp_path, "2026-01-01,a,1,USD\ndate,hub,amount,currency\n")
    with pytest.raises(UserError, match="line 2: date 'date' is not a date"):
        await CsvCostSource(path).fetch(**JANUARY)


async def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "costs.csv"
    with pytest.raises(UserError, match=f"cost file not found: {re.escape(str(path))}"):
        await CsvCostSource(path).fetch(**JANUARY)


async def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read cost file"):
        await CsvCostSource(tmp_path).fetch(**JANUARY)  # a directory
    binary = tmp_path / "costs.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    with pytest.raises(UserError, match="is not UTF-8 text"):
        await CsvCostSource(binary).fetch(**JANUARY)


def test_bad_default_currency_is_refused() -> None:
    with pytest.raises(UserError, match="default currency 'usd'"):
        CsvCostSource(Path("costs.csv"), currency="usd")
