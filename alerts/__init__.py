"""Scheduled jobs: cost refresh, budget threshold and forecast alerts, spend spikes, weekly
digests, delivery with retries. Same rules as ``commands``: talk to the world only through
:mod:`hubbot.ports`. :func:`run_cycle` is the one entry point (CLI, CronJob, scheduler)."""

from alerts.cycle import CycleReport, run_cycle

__all__ = ["CycleReport", "run_cycle"]
