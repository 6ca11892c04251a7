"""Contract tests for the pull requests hubbot follows: the memory twin, SQLite and PostgreSQL agree."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubbot.adapters.memory import MemoryProposals
from hubbot.domain.proposals import Proposal
from hubbot.ports import Proposals
from hubbot.store import Database, SqlProposals
from tests.conftest import new_database

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def proposals(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Proposals]:
    if request.param == "memory":
        yield MemoryProposals()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlProposals(db)
    db.dispose()


def proposal(number: int, *, community: str = "leap") -> Proposal:
    return Proposal(hub="leap/prod", community=community, title=f"change {number}", branch=f"hubbot/c{number}",
                    number=number, url=f"https://github.com/o/r/pull/{number}", requested_by="U0LEADER01",
                    channel="C0LEAP0001", created_at=T0, thread_ts="1.2")


async def test_added_ones_are_followed_until_they_end(proposals: Proposals) -> None:
    first = await proposals.add(proposal(7))
    second = await proposals.add(proposal(8, community=""))
    assert first.id is not None and second.id is not None and first.id != second.id
    assert dataclasses.replace(first, id=None) == proposal(7)  # stored as given
    assert [p.number for p in await proposals.following()] == [7, 8]
    merged = await proposals.update(first.id, state="merged", merge_sha="a" * 40, checks="success",
                                    review="approved", updated_at=T0)
    assert (merged.state, merged.merge_sha, merged.checks, merged.review, merged.updated_at) == (
        "merged", "a" * 40, "success", "approved", T0)
    assert [p.number for p in await proposals.following()] == [8]
    assert [p.number for p in await proposals.recent(communities=None, limit=10)] == [8, 7]
    assert [p.number for p in await proposals.recent(communities=["leap"], limit=10)] == [7]
    assert [p.number for p in await proposals.recent(communities=None, limit=1)] == [8]
    assert (await proposals.recent(communities=["leap"], limit=1))[0] == merged


async def test_unknown_fields_and_ids_are_refused(proposals: Proposals) -> None:
    added = await proposals.add(proposal(1))
    assert added.id is not None
    with pytest.raises(ValueError, match="cannot change proposal fields"):
        await proposals.update(added.id, colour="red")
    with pytest.raises(ValueError, match="cannot change proposal fields"):
        await proposals.update(added.id, id=5)
    with pytest.raises(KeyError):
        await proposals.update(999, state="closed")
