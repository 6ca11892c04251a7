"""The service menu in the fleet config (``plans:``): tiers and their fees, server sizes, and
what ``/hub estimate`` assumes — versioned and dated, so a change is visible and audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from hubbot.fleet.base import SIZE as _SIZE
from hubbot.fleet.base import Model as _Model
from hubbot.fleet.base import Name


class UserBand(_Model):
    """A band of the fee per monthly active user: users above the previous band's ``up_to`` and up
    to this one pay ``per_user`` each (the last band may leave ``up_to`` out: everyone above)."""

    up_to: int | None = Field(None, ge=1)
    per_user: Decimal = Field(ge=0)


class TierIncludes(_Model):
    support_hours: Decimal = Field(Decimal(0), ge=0, description="support hours a month")
    response_time: str = Field("", description="e.g. '1 business day'")
    hubs: int = Field(1, ge=0)
    binderhub: bool = False
    backups: bool = False
    dedicated_cluster: bool = False
    extra: list[str] = Field(default_factory=list, description="anything else the tier includes, in words")


class TierConfig(_Model):
    name: Name
    title: str = ""
    monthly_fee: Decimal | None = Field(None, ge=0)
    yearly_fee: Decimal | None = Field(None, ge=0)
    user_bands: list[UserBand] = Field(default_factory=list, description="fee per monthly active user, in bands")
    includes: TierIncludes = Field(default_factory=TierIncludes)

    @model_validator(mode="after")
    def _one_fee(self) -> TierConfig:
        if self.monthly_fee is not None and self.yearly_fee is not None:
            raise ValueError("give the fee as monthly_fee or yearly_fee, not both")
        ups = [b.up_to for b in self.user_bands]
        if any(u is None for u in ups[:-1]) or [u for u in ups if u is not None] != sorted(
                {u for u in ups if u is not None}):
            raise ValueError("user_bands go up: each up_to larger than the last; only the last may leave it out")
        return self

    @property
    def monthly(self) -> Decimal:
        if self.monthly_fee is not None:
            return self.monthly_fee
        return (self.yearly_fee or Decimal(0)) / 12


class ServerSize(_Model):
    cpu: Decimal = Field(gt=0, le=512, description="CPU cores a user's server is guaranteed")
    memory: str = Field(pattern=_SIZE, description="memory a user's server is guaranteed, e.g. 4GiB")


class EstimateConfig(_Model):
    """What ``/hub estimate`` assumes when a question leaves it out, and what it may choose from."""

    hours: Decimal = Field(Decimal(20), gt=0, le=744, description="server hours per user per month")
    size: str = Field("small", description="the server size (of sizes:) by default")
    storage_gib: Decimal = Field(Decimal(10), ge=0, le=10000, description="home storage per user, GiB")
    provider: Literal["aws", "gcp", "jetstream2"] = "aws"
    regions: dict[str, str] = Field(default_factory=lambda: {"aws": "us-west-2", "gcp": "us-central1",
                                                             "jetstream2": "IU"})
    machines: dict[str, list[str]] = Field(default_factory=lambda: {
        "aws": ["m6i.large", "m6i.xlarge", "m6i.2xlarge", "m6i.4xlarge", "r6i.large", "r6i.xlarge", "r6i.2xlarge",
                "r6i.4xlarge"],
        "gcp": ["n2-standard-2", "n2-standard-4", "n2-standard-8", "n2-standard-16", "n2-highmem-2",
                "n2-highmem-4", "n2-highmem-8", "n2-highmem-16"],
        "jetstream2": ["m3.small", "m3.quad", "m3.medium", "m3.large", "m3.xl", "r3.large"]},
        description="machine types nodes may be, by provider")
    core: dict[str, str] = Field(default_factory=lambda: {"aws": "m6i.large", "gcp": "n2-standard-2",
                                                          "jetstream2": "m3.medium"},
                                 description="the always-on core node (hub, proxy, home storage server), by provider")
    su_rate: Decimal | None = Field(None, gt=0, description="money per JetStream2 service unit, to compare")
    prices: str | None = Field(None, description="a dated price snapshot (JSON), relative to this config: used "
                                                 "when no price was read from an API yet")
    live_prices: bool = Field(True, description="read AWS and GCP prices from their APIs (off: the snapshot only)")


class PlansConfig(_Model):
    """The service menu: tiers and their fees, versioned and dated so a change is visible."""

    version: str = Field(min_length=1, max_length=40)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="when this menu took effect")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    hourly_rate: Decimal = Field(Decimal(0), ge=0, description="the rate of an hour of work beyond the tiers")
    tiers: list[TierConfig] = Field(min_length=1)
    sizes: dict[str, ServerSize] = Field(default_factory=lambda: {
        "small": ServerSize(cpu=Decimal("0.5"), memory="2GiB"), "medium": ServerSize(cpu=Decimal(1), memory="4GiB"),
        "large": ServerSize(cpu=Decimal(2), memory="8GiB")})
    estimates: EstimateConfig = Field(default_factory=EstimateConfig)

    @model_validator(mode="after")
    def _names(self) -> PlansConfig:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("two tiers share a name")
        if self.estimates.size not in self.sizes:
            raise ValueError(f"estimates.size '{self.estimates.size}' is not one of sizes: ({', '.join(self.sizes)})")
        return self

    def tier(self, name: str) -> TierConfig | None:
        return next((t for t in self.tiers if t.name == name), None)
