"""Scheduled jobs (cost thresholds, digests). Same rules as ``commands``: talk to the world
only through :mod:`hubbot.ports`. Empty until the cost-alert capability lands."""

ALL: tuple[()] = ()
