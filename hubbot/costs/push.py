"""Recording a budget notification a provider pushed: which provider and community it is for,
and what the HTTP answer tells the pusher (retry or not)."""

from __future__ import annotations

from hubbot.errors import NotAllowed, UpstreamError, UserError
from hubbot.fleet import Fleet, GcpProvider
from hubbot.ports import BudgetPush, Services


class BudgetPushReceiver:
    """Called with the provider named in the URL, the Authorization header and the body; returns
    an HTTP status and a message. 204 acknowledges (recorded, or not a budget notification),
    503 asks Pub/Sub to retry, 400/403/404 say a retry would not help."""

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
        # hubbot names the budgets it mirrors hubbot-<community>; others belong to the provider's owner
        name = reading.source.removeprefix("hubbot-")
        community = name if name in self._fleet.communities else self._fleet.owner_of(provider)
        await self._services.ledger.put_readings(provider=provider, community=community, readings=[reading])
        return 204, "recorded"
