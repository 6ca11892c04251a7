"""Community budgets mirrored into Cloud Billing budgets (the Budget API, over REST)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from hubbot.adapters.gcp.api import ACCOUNT_PREFIX, API_TIMEOUT, Api, account_id, client_options, credentials, guarded
from hubbot.adapters.lazy import Lazy
from hubbot.errors import NotMirrored, UserError
from hubbot.fleet import Fleet, GcpProvider

if TYPE_CHECKING:
    from google.cloud.billing.budgets_v1 import Budget, BudgetServiceClient

BudgetClientFactory = Callable[[], "BudgetServiceClient"]
_DISPLAY_NAME_MAX = 60  # Cloud Billing's limit for a budget's display name
# hubbot's budget periods and the Cloud Billing calendar period (Filter.calendar_period) each
# becomes; an allocation runs between the allocation's own dates, which no calendar period matches.
_CALENDAR_PERIODS = {"monthly": "MONTH", "quarterly": "QUARTER"}


class GcpBudgets:
    """Mirrors a community's budget into a Cloud Billing budget on ``provider.billing_account``.

    The budget is found by its display name, ``hubbot-<community>``, and covers only
    ``provider.project``, per calendar month or quarter as the community's budget runs, counting
    credits. It counts only the community's own spend: the whole project when the community owns
    every hub on the provider (``name`` in ``fleet``); when other communities have hubs there too,
    only usage whose ``provider.hub_label`` label is the community's hub. A Cloud Billing budget
    filters on a single label value, so a community with several hubs on a shared project, or
    with a hub named like another community's hub there, is not mirrored (:class:`NotMirrored`),
    and neither is an allocation budget. With ``pubsub_topic``
    (``projects/<project>/topics/<topic>``) the budget also publishes its notifications there;
    without it, an existing budget's notification settings are left as they are. hubbot's
    credentials need ``roles/billing.costsManager`` on the billing account.

    ``client_factory`` returns a ``google.cloud.billing.budgets_v1.BudgetServiceClient``; it is
    called once, on first use, in a worker thread.
    """

    def __init__(
        self,
        provider: GcpProvider,
        *,
        name: str,
        fleet: Fleet,
        client_factory: BudgetClientFactory | None = None,
        pubsub_topic: str | None = None,
    ) -> None:
        self.provider = provider
        self.name = name
        self.fleet = fleet
        self.pubsub_topic = pubsub_topic
        self._client = Lazy(client_factory or self._default_client)

    def _default_client(self) -> BudgetServiceClient:
        from google.cloud.billing import budgets_v1

        endpoint = self.provider.endpoint
        return budgets_v1.BudgetServiceClient(
            transport="rest", credentials=credentials(endpoint), client_options=client_options(endpoint)
        )

    async def mirror(self, *, community: str, amount: Decimal, currency: str, period: str,
                     thresholds: list[int]) -> str:
        """Create or update the community's budget; returns its resource name
        (``billingAccounts/<account>/budgets/<id>``).

        ``period`` is ``monthly`` or ``quarterly``; ``thresholds`` are percentages of ``amount``
        (``[50, 90, 100]``). Raises :class:`NotMirrored` for a budget that has no Cloud Billing
        counterpart, :class:`UserError` for settings Cloud Billing cannot hold, and
        :class:`UpstreamError` when Cloud Billing fails or refuses; nothing is changed then.
        """
        calendar_period = _CALENDAR_PERIODS.get(period)
        if period == "allocation":
            raise NotMirrored("an allocation budget is not mirrored to Cloud Billing: it runs between the "
                              "allocation's own dates, and Cloud Billing budgets run per calendar month or quarter")
        if calendar_period is None:
            raise NotMirrored(f"a {period!r} budget is not mirrored to Cloud Billing, which has no such period")
        if not self.provider.billing_account:
            raise UserError(
                f"GCP project '{self.provider.project}' has no billing_account in the fleet config; set it "
                "to the billing account ID (like 0123AB-4567CD-89EF01) to mirror budgets into Cloud Billing"
            )
        display_name = f"hubbot-{community}"
        if len(display_name) > _DISPLAY_NAME_MAX:
            raise UserError(
                f"community name '{community}' is too long for a Cloud Billing budget name "
                f"(at most {_DISPLAY_NAME_MAX - len('hubbot-')} characters)"
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise UserError(f"Cloud Billing budgets are in money; {currency!r} is not an ISO 4217 currency code")
        if not amount.is_finite() or amount <= 0:
            raise UserError(f"a budget amount must be positive (got {amount})")
        if not thresholds or any(t <= 0 for t in thresholds):
            raise UserError("give at least one threshold, each a positive percentage")
        labels = self._labels(community)
        account = account_id(self.provider.billing_account)
        api = Api(
            "the Cloud Billing Budget API",
            f"billing account {account}",
            f"roles/billing.costsManager on billing account {account}",
        )
        return await asyncio.to_thread(
            guarded, api,
            lambda: self._mirror_sync(account, display_name, amount, currency, calendar_period, labels, thresholds),
        )

    def _labels(self, community: str) -> dict[str, list[str]]:
        """The budget's label filter: none when the community owns every hub on the provider, else
        its one hub's label value there (the hub's name, as the export's label and the ledger's
        hub tag give it). Raises :class:`NotMirrored` when no single label value is the
        community's spend alone."""
        here = [ref for ref in self.fleet.hubs if ref.provider == self.name]
        mine = sorted({ref.hub.name for ref in here if ref.hub.community == community})
        project = self.provider.project
        if not mine:
            raise NotMirrored(f"{community} has no hubs on GCP project {project}")
        if self.fleet.owner_of(self.name) == community:
            return {}
        others = sorted({ref.hub.community for ref in here if ref.hub.community is not None} - {community})
        shared = (f"{community} shares GCP project {project} with {', '.join(others)}, so a budget there may count "
                  f"only {community}'s hubs by their '{self.provider.hub_label}' label")
        if len(mine) > 1:
            raise NotMirrored(f"{shared}, and a Cloud Billing budget filters on one label value while {community} "
                              f"has {len(mine)} hubs there ({', '.join(mine)})")
        if any(ref.hub.name == mine[0] for ref in here if ref.hub.community != community):
            raise NotMirrored(f"{shared}, and another community's hub there is also named '{mine[0]}'")
        return {self.provider.hub_label: mine}

    def _mirror_sync(self, account: str, display_name: str, amount: Decimal, currency: str, calendar_period: str,
                     labels: dict[str, list[str]], thresholds: list[int]) -> str:
        from google.cloud.billing import budgets_v1

        client = self._client()
        parent = f"{ACCOUNT_PREFIX}{account}"
        existing: Budget | None = None
        for budget in client.list_budgets(parent=parent, retry=None, timeout=API_TIMEOUT):
            if budget.display_name == display_name:
                existing = budget
                break
        units, nanos = _money_parts(amount)
        wanted = budgets_v1.Budget(
            display_name=display_name,
            budget_filter=budgets_v1.Filter(
                projects=[f"projects/{self.provider.project}"],
                calendar_period=getattr(budgets_v1.CalendarPeriod, calendar_period),
                labels=labels,
                credit_types_treatment=budgets_v1.Filter.CreditTypesTreatment.INCLUDE_ALL_CREDITS,
            ),
            amount=budgets_v1.BudgetAmount(
                specified_amount={"currency_code": currency, "units": units, "nanos": nanos}
            ),
            threshold_rules=[
                budgets_v1.ThresholdRule(
                    threshold_percent=t / 100, spend_basis=budgets_v1.ThresholdRule.Basis.CURRENT_SPEND
                )
                for t in thresholds
            ],
        )
        fields = ["display_name", "budget_filter", "amount", "threshold_rules"]
        if self.pubsub_topic:
            wanted.notifications_rule = budgets_v1.NotificationsRule(
                pubsub_topic=self.pubsub_topic, schema_version="1.0"
            )
            fields.append("notifications_rule")
        if existing is None:
            created = client.create_budget(parent=parent, budget=wanted, retry=None, timeout=API_TIMEOUT)
            return str(created.name)
        wanted.name = existing.name
        wanted.etag = existing.etag  # a concurrent change makes the update fail rather than be lost
        request = budgets_v1.UpdateBudgetRequest(budget=wanted, update_mask={"paths": fields})
        updated = client.update_budget(request=request, retry=None, timeout=API_TIMEOUT)
        return str(updated.name)


def _money_parts(amount: Decimal) -> tuple[int, int]:
    """``amount`` as google.type.Money's whole units and nanos (rounded to a nano)."""
    exact = amount.quantize(Decimal("1e-9"))
    units = int(exact)  # towards zero, so units and nanos share the sign, as Money requires
    return units, int((exact - units).scaleb(9))
