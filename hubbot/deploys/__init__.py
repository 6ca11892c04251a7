"""Deploying hubs: the job engine (stages, locks, heartbeats, cancellation), the messages it keeps
up to date in the thread, rollout judgement, manifest diffs and launch links.

Nothing is re-exported here; import from the modules:

- :mod:`~hubbot.deploys.engine`: ``Engine`` runs and sweeps deploy and rollback jobs; ``Batch``
  (one ``deploy --all``), ``plan_for``, ``ports_of``, ``task_name``, ``new_batch_id``
- :mod:`~hubbot.deploys.messages`: what a job shows in its thread: ``LiveMessage``,
  ``ended_message``, ``summary_line``, ``duration`` and the other message forms
- :mod:`~hubbot.deploys.rollout`: reading workload status into done / failed / waiting
- :mod:`~hubbot.deploys.manifests`: what a deploy would change, as a diff of rendered manifests
- :mod:`~hubbot.deploys.links`: nbgitpuller and BinderHub launch links
"""
