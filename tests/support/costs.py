"""A fleet with CSV cost sources and a runtime with an injected clock, for alert tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.domain import OutboxMessage, Post
from hubbot.fleet import load_fleet
from hubbot.main import Runtime, build
from hubbot.ports import BillingCheck, BudgetMirror
from hubbot.settings import DatabaseSettings, Settings

FLEET = """
providers:
  aws-a: {{kind: csv, path: costs-a.csv}}
  csv-b: {{kind: csv, path: costs-b.csv}}
clusters:
  - name: c1
    provider: aws-a
    hubs:
      - {{name: staging, community: alpha, domain: s.alpha.test}}
      - {{name: prod, community: alpha, domain: alpha.test, tier: prod}}
  - name: c2
    provider: csv-b
    hubs:
      - {{name: lab, community: beta, domain: lab.beta.test}}
communities:
  - name: alpha
    display_name: Alpha
    channel: CALPHA001
    leaders: [ULEADA001]
    budget: {{amount: 1000, currency: USD, period: monthly{alpha_extra}}}
  - name: beta
    channel: CBETA0001
    leaders: [ULEADB001]
    budget: {{amount: 5000, currency: USD, period: monthly}}
{beta_digest}
roles:
  engineers: [UENG00001]
alerts:
  engineers_channel: COPS00001
"""


def write_costs(path: Path, start: date, days: int, per_day: Callable[[date], dict[str, Decimal]]) -> None:
    lines = ["date,hub,amount,currency,service"]
    for i in range(days):
        day = start + timedelta(days=i)
        for hub, amount in per_day(day).items():
            lines.append(f"{day.isoformat()},{hub},{amount},USD,compute")
    path.write_text("\n".join(lines) + "\n")


def write_fleet(tmp: Path, *, alpha_extra: str = "", beta_digest: str = "") -> Path:
    path = tmp / "fleet.yaml"
    path.write_text(FLEET.format(alpha_extra=alpha_extra, beta_digest=beta_digest))
    return path


def runtime(fleet_path: Path, database_url: str, *, clock: FrozenClock | None = None,
            notifier: RecordingNotifier | None = None, mirrors: dict[str, BudgetMirror] | None = None,
            billing: dict[str, BillingCheck] | None = None) -> Runtime:
    settings = Settings(database=DatabaseSettings(url=database_url))
    return build(settings, load_fleet(fleet_path), clock=clock or FrozenClock(),
                 notifier=notifier or RecordingNotifier(), mirrors=mirrors, billing=billing)


def setup_costs(tmp: Path, *, start: date = date(2026, 3, 1), days: int = 62, daily: str = "50") -> Path:
    """The fleet above with flat daily costs: alpha ``daily`` a day, beta 10 a day."""
    path = write_fleet(tmp)
    write_costs(tmp / "costs-a.csv", start, days, lambda d: {"prod": Decimal(daily)})
    write_costs(tmp / "costs-b.csv", start, days, lambda d: {"lab": Decimal("10")})
    return path


def basis(message: OutboxMessage) -> str:
    """A cost alert's basis, or the kind of any other outbox message."""
    return message.alert.basis.value if message.alert else message.kind.value


def text(message: OutboxMessage) -> str:
    """What a posted message says."""
    assert isinstance(message.payload, Post), message.kind
    return message.payload.text
