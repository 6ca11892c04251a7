"""Backups of hubs' home storage on AWS: EBS volumes snapshotted by EC2 (scheduled by Data
Lifecycle Manager policies) and EFS file systems backed up by AWS Backup (scheduled by backup
plans).

:mod:`~hubbot.adapters.aws_backups.calls` makes the clients (boto3 loads on first use, calls run
in worker threads), counts every request by the IAM action it needs and says what a failed call
means; :mod:`~hubbot.adapters.aws_backups.ebs` and :mod:`~hubbot.adapters.aws_backups.efs` do
each kind; :mod:`~hubbot.adapters.aws_backups.schedules` reads DLM policies and backup plans.

Public surface: :class:`AwsBackups`, the :class:`hubbot.ports.BackupSource` for one account.
"""

from __future__ import annotations

from hubbot.adapters.aws_backups.source import AwsBackups

__all__ = ["AwsBackups"]
