"""`/hub budget set` mirroring into Cloud Billing: the real dispatcher and the GCP budget adapter
the runtime wires from the fleet config, against the Google stand-in. Alpha owns the GCP project,
unless beta's hubs are put on it too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.memory import FrozenClock
from hubbot.main import Runtime
from hubbot.pipeline.contract import Invocation, Reply
from tests.support.costs import runtime
from tests.support.gcp_standin import GcpStandIn
from tests.support.server import serve

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
ACCOUNT = "0123AB-4567CD-89EF01"
ENGINEER = "UENG00001"

FLEET = """
providers:
  gcp-a: {{kind: gcp, project: alpha-project, billing_account: "{account}", endpoint: "{endpoint}"}}
  js2-a: {{kind: openstack, auth_url: "https://keystone.test:5000/v3", project: TRA000001}}
clusters:
  - name: gke
    provider: gcp-a
    hubs:
      - {{name: prod, community: alpha, domain: alpha.test}}
{beta_hubs}
  - name: js2
    provider: js2-a
    hubs:
      - {{name: class, community: alpha, domain: class.alpha.test}}
communities:
  - name: alpha
    channel: CALPHA001
    budget: {{amount: 1000, currency: USD, period: monthly}}
  - name: beta
    channel: CBETA0001
roles:
  engineers: [{engineer}]
"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GcpStandIn, str]]:
    standin = GcpStandIn()
    with serve(standin.app) as server:
        yield standin, server.url


@pytest.fixture
def standin(served: tuple[GcpStandIn, str]) -> GcpStandIn:
    served[0].reset()
    return served[0]


def _runtime(served: tuple[GcpStandIn, str], tmp_path: Path, *, beta_hubs: str = "") -> Runtime:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET.format(account=ACCOUNT, endpoint=served[1], engineer=ENGINEER, beta_hubs=beta_hubs))
    return runtime(fleet, f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(NOW))


@pytest.fixture
def rt(served: tuple[GcpStandIn, str], standin: GcpStandIn, tmp_path: Path) -> Runtime:
    return _runtime(served, tmp_path)


@pytest.fixture
def shared(served: tuple[GcpStandIn, str], standin: GcpStandIn, tmp_path: Path) -> Runtime:
    """Beta has two hubs on alpha's GCP project."""
    return _runtime(served, tmp_path, beta_hubs="      - {name: lab, community: beta, domain: lab.beta.test}\n"
                                                 "      - {name: lab-staging, community: beta, domain: s.beta.test}")


async def set_budget(rt: Runtime, text: str) -> Reply:
    """`/hub budget <text>`, then Confirm, as an engineer."""
    ask = await rt.dispatcher.run(Invocation(user_id=ENGINEER, channel_id="COPS00001", text=f"budget {text}"))
    assert ask.ok, ask.text
    for block in ask.blocks:
        for element in block.get("elements", []):
            if block["type"] == "actions" and element["text"]["text"] == "Confirm":
                return await rt.dispatcher.run_action(Invocation(user_id=ENGINEER, channel_id="COPS00001", text=""),
                                                      action_id=element["action_id"], value=element["value"])
    raise AssertionError("no Confirm button")


async def test_a_quarterly_budget_becomes_a_quarterly_cloud_billing_budget(rt: Runtime, standin: GcpStandIn) -> None:
    done = await set_budget(rt, "set alpha 3000 --period quarterly")
    assert "now $3,000.00 quarterly" in done.text and "Mirrored to gcp-a (billingAccounts/" in done.text
    (budget,) = standin.budgets[ACCOUNT].values()
    assert budget["displayName"] == "hubbot-alpha"
    assert budget["budgetFilter"]["calendarPeriod"] == 2  # QUARTER
    assert budget["amount"]["specifiedAmount"] == {"currencyCode": "USD", "units": "3000"}

    done = await set_budget(rt, "set alpha 1000 --period monthly")
    assert "Mirrored to gcp-a" in done.text
    assert budget["budgetFilter"]["calendarPeriod"] == 1  # MONTH, on the same budget
    assert len(standin.budgets[ACCOUNT]) == 1


async def test_an_allocation_budget_is_set_but_not_mirrored_and_the_reply_says_so(
    rt: Runtime, standin: GcpStandIn
) -> None:
    done = await set_budget(rt, "set alpha 5000 --period allocation --currency SU")
    assert done.ok, done.text
    assert "now 5,000" in done.text and "allocation" in done.text
    assert "Not mirrored to gcp-a: an allocation budget is not mirrored to Cloud Billing" in done.text
    assert "Mirrored to gcp-a" not in done.text
    assert standin.calls == []  # Cloud Billing was not even asked
    stored = await rt.services.budgets.get("alpha")
    assert stored is not None and stored.period == "allocation" and stored.amount == Decimal(5000)


async def test_the_whole_project_is_budgeted_for_the_community_that_owns_it(rt: Runtime, standin: GcpStandIn) -> None:
    await set_budget(rt, "set alpha 1200")
    (budget,) = standin.budgets[ACCOUNT].values()
    assert budget["budgetFilter"]["projects"] == ["projects/alpha-project"] and "labels" not in budget["budgetFilter"]


async def test_on_a_shared_project_the_budget_counts_only_the_communitys_hub(shared: Runtime, standin: GcpStandIn
                                                                            ) -> None:
    done = await set_budget(shared, "set alpha 1200")
    assert "Mirrored to gcp-a" in done.text
    (budget,) = standin.budgets[ACCOUNT].values()
    assert budget["budgetFilter"]["projects"] == ["projects/alpha-project"]
    assert budget["budgetFilter"]["labels"] == {"2i2c-hub-name": ["prod"]}


async def test_a_community_with_several_hubs_on_a_shared_project_is_not_mirrored_there(
    shared: Runtime, standin: GcpStandIn
) -> None:
    done = await set_budget(shared, "set beta 800")
    assert done.ok and "now $800.00 monthly" in done.text
    assert ("Not mirrored to gcp-a: beta shares GCP project alpha-project with alpha, so a budget there may count "
            "only beta's hubs by their '2i2c-hub-name' label, and a Cloud Billing budget filters on one label value "
            "while beta has 2 hubs there (lab, lab-staging).") in done.text
    assert standin.calls == []
    stored = await shared.services.budgets.get("beta")
    assert stored is not None and stored.amount == Decimal(800)
