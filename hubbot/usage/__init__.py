"""Who uses a hub and how much: the hub's own API (users, groups, activity, running servers) and
its cluster's Prometheus (compute per user, home directories, daily active users), gathered into
one :class:`~hubbot.usage.report.UsageReport` for ``/hub usage``, ``/hub quota show`` and the
weekly digest."""
