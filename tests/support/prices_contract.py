"""What every :class:`hubbot.ports.PriceSource` does, whoever answers it: run by
``tests/test_prices.py`` against :class:`hubbot.adapters.memory.MemoryPrices` and against the AWS
and GCP adapters on their stand-ins, so the twin commands are tested with behaves as they do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest

from hubbot.domain.prices import MachinePrice
from hubbot.errors import NotFound, UpstreamError
from hubbot.ports import PriceSource


@dataclass
class PriceCase:
    """A price source set up with known prices: ``known`` are the machines it prices in ``region``
    (as it should report them), ``unknown_machine`` a name it has no price for, ``unknown_region``
    a region it does not know; ``break_source`` makes its next calls fail as an unreachable API."""

    source: PriceSource
    provider: str
    region: str
    currency: str
    storage_gib_month: Decimal
    known: list[MachinePrice]
    unknown_machine: str
    unknown_region: str
    fetched_at: datetime
    break_source: Callable[[], None]


async def known_machines_come_in_the_order_asked(case: PriceCase) -> None:
    names = [m.name for m in reversed(case.known)]
    table = await case.source.table(case.region, machines=[*names, names[0]])  # asked twice, listed once

    assert [m.name for m in table.machines] == names
    assert {m.name: m for m in table.machines} == {m.name: m for m in case.known}
    assert (table.provider, table.region, table.currency) == (case.provider, case.region, case.currency)
    assert table.storage_gib_month == case.storage_gib_month
    assert table.fetched_at == case.fetched_at
    assert table.source


async def an_unknown_machine_is_left_out(case: PriceCase) -> None:
    first = case.known[0]
    table = await case.source.table(case.region, machines=[case.unknown_machine, first.name])

    assert table.machines == (first,)
    assert table.machine(case.unknown_machine) is None


async def asking_for_no_machines_still_prices_storage(case: PriceCase) -> None:
    table = await case.source.table(case.region, machines=[])

    assert table.machines == ()
    assert table.storage_gib_month == case.storage_gib_month


async def an_unknown_region_is_not_found(case: PriceCase) -> None:
    with pytest.raises(NotFound, match=case.unknown_region):
        await case.source.table(case.unknown_region, machines=[case.known[0].name])


async def an_api_that_fails_is_an_upstream_error(case: PriceCase) -> None:
    case.break_source()
    with pytest.raises(UpstreamError):
        await case.source.table(case.region, machines=[m.name for m in case.known])


CONTRACT: list[Callable[[PriceCase], Awaitable[None]]] = [
    known_machines_come_in_the_order_asked,
    an_unknown_machine_is_left_out,
    asking_for_no_machines_still_prices_storage,
    an_unknown_region_is_not_found,
    an_api_that_fails_is_an_upstream_error,
]
