"""Deploying hubs: the job engine (stages, locks, heartbeats, cancellation), the messages it keeps
up to date in the thread, rollout judgement, manifest diffs and launch links.

- :mod:`~hubbot.deploys.engine`: ``Engine`` runs and sweeps deploy and rollback jobs
- :mod:`~hubbot.deploys.rollout`: reading workload status into done / failed / waiting
- :mod:`~hubbot.deploys.manifests`: what a deploy would change, as a diff of rendered manifests
- :mod:`~hubbot.deploys.links`: BinderHub launch links
"""
