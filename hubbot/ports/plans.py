"""Where cloud prices come from, for ``/hub estimate``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubbot.domain.prices import PriceTable


class PriceSource(Protocol):
    """One provider's price list API. ``machines`` names the machine types wanted (instance types,
    machine types or flavours); the table holds those it found priced in ``region`` (an unknown
    one is left out, not made up). An unknown region raises :class:`hubbot.errors.NotFound`; an
    API that cannot be reached, refuses or fails raises :class:`hubbot.errors.UpstreamError`
    (callers then fall back to the last table they kept)."""

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable: ...
