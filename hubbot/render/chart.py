"""The cost chart: daily spend as bars, cumulative spend as a line, the budget as a level line.
matplotlib loads on first use (it takes a while), so only commands that draw pay for it."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from hubbot.domain import money

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def chart_alt(
    *, title: str, days: list[date], daily: list[Decimal], budget: Decimal | None, currency: str,
    forecast: Decimal | None = None,
) -> str:
    """What :func:`cost_chart` shows, in words (the image's alt text for screen readers)."""
    parts = [f"Bar chart of daily spend, {title}"]
    if days:
        peak = max(range(len(daily)), key=lambda i: daily[i])
        parts.append(f"{len(days)} days from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}, "
                     f"total {money(sum(daily, Decimal(0)), currency)}, "
                     f"highest {money(daily[peak], currency)} on {days[peak]:%Y-%m-%d}")
    if budget is not None:
        parts.append(f"budget {money(budget, currency)}")
    if forecast is not None:
        parts.append(f"forecast for the period {money(forecast, currency)}")
    return "; ".join(parts) + "."


def cost_chart(
    *, title: str, days: list[date], daily: list[Decimal], budget: Decimal | None, currency: str,
    forecast: Decimal | None = None, period_end: date | None = None,
) -> bytes:
    """A PNG, 1000×500 px."""
    return _png(cost_figure(title=title, days=days, daily=daily, budget=budget, currency=currency,
                            forecast=forecast, period_end=period_end))


def cost_figure(
    *, title: str, days: list[date], daily: list[Decimal], budget: Decimal | None, currency: str,
    forecast: Decimal | None = None, period_end: date | None = None,
) -> Figure:
    """The chart as a matplotlib figure (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    try:
        amounts = [float(a) for a in daily]
        cumulative = []
        total = 0.0
        for a in amounts:
            total += a
            cumulative.append(total)
        x = [float(v) for v in mdates.date2num(days)]
        ax.bar(x, amounts, color="#7aa6c2", label=f"daily ({currency})")
        ax.set_ylabel(f"daily spend ({currency})")
        ax.set_title(title)
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax2 = ax.twinx()
        ax2.plot(x, cumulative, color="#1f4e79", linewidth=2, label="cumulative")
        if budget is not None:
            ax2.axhline(float(budget), color="#c0392b", linestyle="--", label=f"budget {float(budget):,.0f}")
        if forecast is not None and period_end is not None and days:
            end = float(mdates.date2num(period_end))
            ax2.plot([x[-1], end], [cumulative[-1], float(forecast)], color="#1f4e79", linestyle=":",
                     label="forecast")
        ax2.set_ylabel(f"cumulative ({currency})")
        ax2.set_ylim(bottom=0)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
        ax.legend(handles, labels, loc="upper left", fontsize="small", framealpha=0.9)
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig
    except Exception:
        plt.close(fig)
        raise


def _png(fig: Figure) -> bytes:
    """``fig`` as a PNG; the figure is closed."""
    from matplotlib import pyplot as plt

    try:
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)


def bars_chart(*, title: str, labels: list[str], values: list[float], unit: str) -> bytes:
    """Horizontal bars, largest on top (top users or groups), 1000 px wide; a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.6 + 0.32 * len(labels))), dpi=100)
    try:
        ax.barh(list(range(len(labels)))[::-1], values, color="#7aa6c2")
        ax.set_yticks(list(range(len(labels)))[::-1], labels=labels, fontsize="small")
        ax.set_xlabel(unit)
        ax.set_title(title)
        ax.set_xlim(left=0)
        fig.tight_layout()
    except Exception:
        plt.close(fig)
        raise
    return _png(fig)


def daily_chart(*, title: str, days: list[date], values: list[int], label: str) -> bytes:
    """A line of one figure a day (daily active users); a PNG, 1000×400 px."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        x = [float(v) for v in mdates.date2num(days)]
        ax.plot(x, values, color="#1f4e79", linewidth=2, marker="o" if len(days) <= 31 else None, markersize=3)
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        fig.autofmt_xdate()
        fig.tight_layout()
    except Exception:
        plt.close(fig)
        raise
    return _png(fig)
