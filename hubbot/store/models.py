"""Tables. Change them only together with a new Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    user: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    transport: Mapped[str] = mapped_column(String(16), nullable=False)
    command: Mapped[str] = mapped_column(String(80), nullable=False)
    args: Mapped[str] = mapped_column(Text, nullable=False, default="")
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    hub: Mapped[str | None] = mapped_column(String(130))
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reference: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_audit_community_id", "community", "id"), Index("ix_audit_hub_id", "hub", "id"))


class SeenEvent(Base):
    """Slack event IDs already handled, so a retried delivery never runs a command twice."""

    __tablename__ = "seen_events"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class PendingRow(Base):
    """Changes waiting for confirmation or approval (see :mod:`hubbot.pipeline.confirm`)."""

    __tablename__ = "pending_actions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    command: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    hub: Mapped[str | None] = mapped_column(String(130))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


MONEY = Numeric(18, 6)


class CostRow(Base):
    """The cost ledger: one provider's daily cost per hub (NULL: shared) and service."""

    __tablename__ = "cost_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    hub: Mapped[str | None] = mapped_column(String(130))
    community: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(128), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    estimated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="usage", server_default="usage")
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        Index("ix_cost_community_day", "community", "day"),
        Index("ix_cost_provider_day", "provider", "day"),
    )


class CostMonthRow(Base):
    """The ledger summed per provider, community, hub, calendar month, currency and kind, kept
    in step with ``cost_lines`` by every replace (same transaction): a budget period made of
    whole months is read from here, one row per hub and month instead of one per service and day."""

    __tablename__ = "cost_months"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    hub: Mapped[str | None] = mapped_column(String(130))
    month: Mapped[date] = mapped_column(Date, nullable=False)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    __table_args__ = (
        Index("ix_cost_months_month_community", "month", "community"),
        Index("ix_cost_months_provider_month", "provider", "month"),
    )


class CostDayRow(Base):
    """The ledger summed per provider, community, day, currency and kind (hubs and services
    folded), kept in step with ``cost_lines`` like ``cost_months``: the run-rate days of every
    community are read from here."""

    __tablename__ = "cost_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, nullable=False)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    __table_args__ = (
        Index("ix_cost_days_community_day", "community", "day"),
        Index("ix_cost_days_provider_day", "provider", "day"),
    )


class ReadingRow(Base):
    """To-date totals a provider states directly (JetStream2 SUs, GCP budget notifications)."""

    __tablename__ = "cost_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    allocated: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (UniqueConstraint("provider", "source", "start", name="uq_reading"),)


class ReadingHistoryRow(Base):
    """Successive readings: per provider, source and allocation start, the last one put on each
    UTC day, for the slope of a to-date total (JetStream2 SUs used per day)."""

    __tablename__ = "cost_reading_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    community: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    allocated: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        UniqueConstraint("provider", "source", "start", "day", name="uq_reading_history"),
        Index("ix_reading_history_community_day", "community", "day"),
    )


class ProviderStatusRow(Base):
    __tablename__ = "provider_status"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class BudgetRow(Base):
    """Budgets set from chat; they override the fleet config's."""

    __tablename__ = "budgets"

    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    thresholds: Mapped[str] = mapped_column(String(200), nullable=False)
    forecast: Mapped[bool] = mapped_column(Boolean, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    set_by: Mapped[str] = mapped_column(String(32), nullable=False)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AlertRow(Base):
    """The alert outbox. ``key`` (community, period, basis, threshold) is unique, so an alert
    is recorded at most once whatever the number of processes; rows are written before the
    message is sent and claimed with a lease, so a crash resends instead of losing it."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str | None] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(16), nullable=False)
    threshold: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    spend: Mapped[Decimal | None] = mapped_column(MONEY)
    budget: Mapped[Decimal | None] = mapped_column(MONEY)
    forecast: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    blocks: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # pending, skipped, sent, failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    acked_by: Mapped[str | None] = mapped_column(String(32))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    muted_until: Mapped[date | None] = mapped_column(Date)
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # a post in this thread of the channel
    # claims never reported back (more claims than attempts) mean a sender died mid-send
    claims: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (Index("ix_alerts_state", "state", "id"), Index("ix_alerts_community", "community", "id"))


class SupportRow(Base):
    __tablename__ = "support_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    user: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    community: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answered: Mapped[bool] = mapped_column(Boolean, nullable=False)
    confidence: Mapped[float] = mapped_column(Numeric(6, 4), nullable=False)
    citation: Mapped[str | None] = mapped_column(Text)
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    suggested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    unlearned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # its verdict no longer counts
    post_channel: Mapped[str | None] = mapped_column(String(32))  # where the escalation was posted
    post_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_support_community_id", "community", "id"),
                      Index("ix_support_post", "post_channel", "post_ts"))


class SupportReplyRow(Base):
    """A reply in the thread of an escalated question's post, which may be saved as an answer."""

    __tablename__ = "support_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(Integer, nullable=False)
    user: Mapped[str] = mapped_column(String(32), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    ts: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    entry_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_support_replies_message"),)


class SavedAnswerRow(Base):
    """An answer saved from a Slack thread; ``questions``, ``links`` and ``sources`` are JSON lists."""

    __tablename__ = "saved_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str | None] = mapped_column(String(64))
    questions: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    links: Mapped[str] = mapped_column(Text, nullable=False)
    sources: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    question_id: Mapped[int | None] = mapped_column(Integer)
    edited_by: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (Index("ix_saved_answers_community", "community", "id"),)


class ForecastRow(Base):
    """A provider's own forecast of its remaining cost for a period (one row per provider)."""

    __tablename__ = "cost_forecasts"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class JobRow(Base):
    """A deploy or rollback of one hub, with its stages' outcome and the tail of its log."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    hub: Mapped[str] = mapped_column(String(130), nullable=False)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    stage: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    batch: Mapped[str | None] = mapped_column(String(32))
    chart_version: Mapped[str | None] = mapped_column(String(64))
    commit: Mapped[str | None] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(200))
    revision: Mapped[int | None] = mapped_column(Integer)
    previous_revision: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    result: Mapped[str] = mapped_column(Text, nullable=False, default="")
    log: Mapped[str] = mapped_column(Text, nullable=False, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (Index("ix_jobs_hub_id", "hub", "id"), Index("ix_jobs_state", "state", "id"),
                      Index("ix_jobs_batch", "batch", "id"))


class HubLockRow(Base):
    """One row per hub being deployed: the primary key is what makes the lock exclusive."""

    __tablename__ = "hub_locks"

    hub: Mapped[str] = mapped_column(String(130), primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer, nullable=False)
    holder: Mapped[str] = mapped_column(String(32), nullable=False)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class OverlayRow(Base):
    """hubbot's values overlay of a hub; ``revision`` is bumped by each change (compare and set)."""

    __tablename__ = "hub_overlays"

    hub: Mapped[str] = mapped_column(String(130), primary_key=True)
    values: Mapped[str] = mapped_column(Text, nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ProposalRow(Base):
    """A pull request hubbot opened on the fleet repository and follows until merged or closed."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(130), nullable=False)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    branch: Mapped[str] = mapped_column(String(200), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    checks: Mapped[str] = mapped_column(String(16), nullable=False)
    review: Mapped[str] = mapped_column(String(24), nullable=False)
    merge_sha: Mapped[str | None] = mapped_column(String(40))
    conflicted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deploy_when_merged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_proposals_state", "state", "id"),)


class PriceTableRow(Base):
    """The last price table read for a provider and region (JSON of :class:`hubbot.domain.prices.PriceTable`)."""

    __tablename__ = "price_tables"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)


class ServiceRequestRow(Base):
    """Work a community asked for beyond the standard services, and what was decided."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    what: Mapped[str] = mapped_column(String(500), nullable=False)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(8), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_service_requests_community", "community", "id"),)
