"""Cloud spend: billing periods, forecasts and threshold decisions (pure), and the one cost
summary that ``/hub cost``, ``/hub budget show`` and the alert messages all read.

- :mod:`~hubbot.costs.periods`: billing periods in a community's time zone
- :mod:`~hubbot.costs.spend`: forecasts, threshold crossings, spikes
- :mod:`~hubbot.costs.summary`: a community's spend, budget, forecast and freshness for a period
"""
