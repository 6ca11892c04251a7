"""Which billing account a project bills to (the Cloud Billing API, over REST)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbot.adapters.gcp.api import API_TIMEOUT, Api, account_id, client_options, credentials, guarded
from hubbot.adapters.lazy import Lazy
from hubbot.fleet import GcpProvider

if TYPE_CHECKING:
    from google.cloud.billing_v1 import CloudBillingClient

BillingClientFactory = Callable[[], "CloudBillingClient"]


class GcpBilling:
    """Which billing account ``provider.project`` bills to, and whether that is the configured
    ``provider.billing_account``. hubbot's credentials need ``resourcemanager.projects.get`` on
    the project (``roles/browser`` has it).

    ``client_factory`` returns a ``google.cloud.billing_v1.CloudBillingClient``; it is called
    once, on first use, in a worker thread.
    """

    def __init__(self, provider: GcpProvider, *, client_factory: BillingClientFactory | None = None) -> None:
        self.provider = provider
        self._client = Lazy(client_factory or self._default_client)
        self._api = Api(
            "the Cloud Billing API",
            f"project {provider.project}",
            f"roles/browser (or another role with resourcemanager.projects.get) on project {provider.project}",
        )

    def _default_client(self) -> CloudBillingClient:
        from google.cloud import billing_v1

        endpoint = self.provider.endpoint
        return billing_v1.CloudBillingClient(
            transport="rest", credentials=credentials(endpoint), client_options=client_options(endpoint)
        )

    async def billing_account_of_project(self) -> str | None:
        """The project's billing account (``billingAccounts/0123AB-4567CD-89EF01``), or None
        when billing is disabled for it."""
        return await asyncio.to_thread(guarded, self._api, self._account_sync)

    def _account_sync(self) -> str | None:
        info = self._client().get_project_billing_info(
            name=f"projects/{self.provider.project}", retry=None, timeout=API_TIMEOUT
        )
        account = str(info.billing_account_name)
        if not info.billing_enabled or not account:
            return None
        return account

    async def check(self) -> str | None:
        """None when the project bills to the configured account (or, with none configured, to
        any account); otherwise a sentence saying what is wrong."""
        project = self.provider.project
        actual = await self.billing_account_of_project()
        expected = account_id(self.provider.billing_account) if self.provider.billing_account else None
        if actual is None:
            hint = f"; link it to billing account {expected}" if expected else ""
            return f"billing is detached from project {project}{hint}"
        if expected is not None and account_id(actual) != expected:
            return f"project {project} bills to {account_id(actual)}, expected {expected}"
        return None
