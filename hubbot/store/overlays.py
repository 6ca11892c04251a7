"""hubbot's values overlay of each hub (:class:`hubbot.ports.Overlays`). A change is a compare and
set on the revision: an insert of revision 1, or an update where the revision is still the one
the change was decided on, so two replicas (or two people) can never lose each other's edit."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hubbot.domain import Overlay
from hubbot.errors import UserError
from hubbot.store.db import Database, as_utc
from hubbot.store.models import OverlayRow


def _overlay(row: OverlayRow) -> Overlay:
    return Overlay(hub=row.hub, values=row.values, revision=row.revision, updated_by=row.updated_by,
                   updated_at=as_utc(row.updated_at))


class SqlOverlays:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, hub: str) -> Overlay | None:
        return await asyncio.to_thread(self._get, hub)

    def _get(self, hub: str) -> Overlay | None:
        with self._db.session() as session:
            row = session.scalar(select(OverlayRow).where(OverlayRow.hub == hub))
            return None if row is None else _overlay(row)

    async def put(self, hub: str, values: str, *, expected: int, user: str, at: datetime) -> Overlay:
        return await asyncio.to_thread(self._put, hub, values, expected, user, at)

    def _put(self, hub: str, values: str, expected: int, user: str, at: datetime) -> Overlay:
        fields = {"values": values, "revision": expected + 1, "updated_by": user[:32], "updated_at": at}
        changed = 0
        try:
            with self._db.engine.begin() as conn:
                if expected == 0:
                    changed = conn.execute(insert(OverlayRow), [{"hub": hub, **fields}]).rowcount
                else:
                    changed = conn.execute(update(OverlayRow).where(
                        OverlayRow.hub == hub, OverlayRow.revision == expected).values(**fields)).rowcount
        except IntegrityError:
            changed = 0  # someone made the first revision meanwhile
        if changed != 1:
            now = self._get(hub)
            raise UserError(f"{hub}'s quota overlay changed while you were deciding (now revision "
                            f"{now.revision if now else 0}); look again with /hub quota diff {hub} and retry")
        return Overlay(hub=hub, values=values, revision=expected + 1, updated_by=user[:32], updated_at=at)
