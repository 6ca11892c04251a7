"""Recording a budget notification a provider pushed: which provider and community it is for,
and what the HTTP answer tells the pusher (retry or not)."""

from __future__ import annotations

import logging

from hubbot.errors import NotAllowed, UpstreamError, UserError
from hubbot.fleet import Fleet, GcpProvider
from hubbot.ports import BudgetPush, Services

log = logging.getLogger("hubbot.costs")
MIRROR_PREFIX = "hubbot-"  # hubbot names the budgets it mirrors hubbot-<community>


class BudgetPushReceiver:
    """Called with the provider named in the URL, the Authorization header and the body; returns
    an HTTP status and a message. 204 acknowledges (recorded, not a budget notification, or not
    a figure of one community's spend), 503 asks Pub/Sub to retry, 400/403/404 say a retry would
    not help.

    A notification is recorded as a community's reading only when that community owns every hub
    on the provider, and only for its own hubbot budget or a budget hubbot did not make. On a
    project several communities share, nothing is recorded: a notification does not say what its
    budget counts (an older or hand-made budget may count the whole project), and the summary
    would take its cost as the community's spend."""

    def __init__(self, push: BudgetPush, *, services: Services, fleet: Fleet) -> None:
        self._push = push
        self._services = services
        self._fleet = fleet

    async def __call__(self, provider: str, authorization: str | None, body: bytes) -> tuple[int, str]:
        if not isinstance(self._fleet.config.providers.get(provider), GcpProvider):
            return 404, f"no GCP provider named {provider[:64]!r}"
        try:
            reading = await self._push.read(authorization, body, now=self._services.clock.now())
        except NotAllowed as exc:
            return 403, str(exc)
        except UpstreamError as exc:
            return 503, str(exc)
        except UserError as exc:
            return 400, str(exc)
        if reading is None:
            return 204, "not a budget notification"
        owner = self._fleet.owner_of(provider)
        named = reading.source.removeprefix(MIRROR_PREFIX) if reading.source.startswith(MIRROR_PREFIX) else None
        if owner is None:
            sharing = sorted({ref.hub.community for ref in self._fleet.hubs
                              if ref.provider == provider and ref.hub.community is not None})
            why = (f"communities {', '.join(sharing)} share its project, and the notification's cost is not "
                   "known to be one community's alone" if sharing else "no community has hubs on it")
        elif named is not None and named != owner:
            why = f"the budget is named for {named[:64]!r}, but every hub on the provider is {owner}'s"
        else:
            await self._services.ledger.put_readings(provider=provider, community=owner, readings=[reading])
            return 204, "recorded"
        log.info("budget notification %r on %s not recorded: %s", reading.source[:64], provider, why)
        return 204, f"not recorded: {why}"
