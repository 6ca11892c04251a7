"""Reading DLM policies and AWS Backup plans: which volumes they cover, and the words for them."""

from __future__ import annotations

from typing import Any

import pytest

from hubbot.adapters.aws_backups.schedules import cron_text, dlm_covers, dlm_text, plan_text, selects

ARN = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
HOME = {"2i2c:hub-name": "prod", "2i2c:volume-purpose": "home-nfs"}


def volume(tags: dict[str, str], kind: str = "gp3") -> dict[str, Any]:
    return {"VolumeId": "vol-1", "VolumeType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def custom(**details: Any) -> dict[str, Any]:
    return {"PolicyId": "policy-1", "PolicyDetails": {"PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
                                                      "ResourceTypes": ["VOLUME"], **details}}


@pytest.mark.parametrize(("policy", "tags", "covered"), [
    (custom(TargetTags=[{"Key": "backup", "Value": "daily"}]), {"backup": "daily"}, True),
    (custom(TargetTags=[{"Key": "backup", "Value": "daily"}, {"Key": "backup", "Value": "hourly"}]),
     {"backup": "hourly"}, True),  # any one of the target tags
    (custom(TargetTags=[{"Key": "backup", "Value": "daily"}]), {"backup": "weekly"}, False),
    (custom(TargetTags=[{"Key": "backup", "Value": "daily"}], ResourceTypes=["INSTANCE"]), {"backup": "daily"}, False),
    (custom(TargetTags=[{"Key": "backup", "Value": "daily"}], PolicyType="IMAGE_MANAGEMENT"), {"backup": "daily"},
     False),
    ({"PolicyId": "policy-2", "DefaultPolicy": True, "PolicyDetails": {"ResourceType": "VOLUME"}}, {}, True),
    ({"PolicyId": "policy-2", "DefaultPolicy": True, "PolicyDetails": {
        "ResourceType": "VOLUME", "Exclusions": {"ExcludeTags": [{"Key": "scratch", "Value": "yes"}]}}},
     {"scratch": "yes"}, False),
    ({"PolicyId": "policy-2", "DefaultPolicy": True, "PolicyDetails": {"ResourceType": "INSTANCE"}}, {}, False),
])
def test_which_volumes_a_dlm_policy_covers(policy: dict[str, Any], tags: dict[str, str], covered: bool) -> None:
    assert dlm_covers(policy, volume(tags)) is covered


def test_a_default_policy_can_leave_out_volume_types() -> None:
    policy = {"DefaultPolicy": True, "PolicyDetails": {"ResourceType": "VOLUME",
                                                       "Exclusions": {"ExcludeVolumeTypes": ["sc1", "st1"]}}}
    assert not dlm_covers(policy, volume({}, "st1")) and dlm_covers(policy, volume({}, "gp3"))


def test_dlm_schedules_in_words() -> None:
    policy = custom(Schedules=[
        {"CreateRule": {"Interval": 12, "IntervalUnit": "HOURS", "Times": ["01:30"]}, "RetainRule": {"Count": 14}},
        {"CreateRule": {"CronExpression": "cron(0 2 1 * ? *)"}, "RetainRule": {"Interval": 1, "IntervalUnit": "YEARS"}},
        {"CreateRule": {"Interval": 24, "IntervalUnit": "HOURS"}},
    ])
    assert dlm_text(policy) == [
        "DLM policy policy-1: every 12 h at 01:30 UTC, keep 14",
        "DLM policy policy-1: cron(0 2 1 * ? *) UTC, keep 1 year",
        "DLM policy policy-1: every 24 h, kept until deleted",
    ]


@pytest.mark.parametrize(("selection", "tags", "selected"), [
    ({"Resources": [ARN]}, {}, True),
    ({"Resources": ["arn:aws:elasticfilesystem:*:*:file-system/*"]}, {}, True),
    ({"Resources": ["arn:aws:ec2:*:*:volume/*"]}, HOME, False),
    ({"Resources": ["*"], "NotResources": [ARN]}, {}, False),
    ({}, {}, True),  # no resources, no tags: every resource AWS Backup may back up
    ({"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "2i2c:volume-purpose",
                      "ConditionValue": "home-nfs"}, {"ConditionType": "STRINGEQUALS", "ConditionKey": "x",
                                                      "ConditionValue": "y"}]}, HOME, True),  # any one tag
    ({"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "aws:ResourceTag/2i2c:hub-name",
                      "ConditionValue": "staging"}]}, HOME, False),
    ({"Resources": ["*"], "Conditions": {"StringEquals": [
        {"ConditionKey": "aws:ResourceTag/2i2c:hub-name", "ConditionValue": "prod"},
        {"ConditionKey": "aws:ResourceTag/2i2c:volume-purpose", "ConditionValue": "home-nfs"}]}}, HOME, True),
    ({"Resources": ["*"], "Conditions": {"StringEquals": [
        {"ConditionKey": "aws:ResourceTag/2i2c:hub-name", "ConditionValue": "prod"},
        {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "yes"}]}}, HOME, False),  # all conditions
    ({"Conditions": {"StringLike": [{"ConditionKey": "aws:ResourceTag/2i2c:hub-name", "ConditionValue": "pr*"}]}},
     HOME, True),
    ({"Conditions": {"StringNotLike": [{"ConditionKey": "aws:ResourceTag/2i2c:hub-name", "ConditionValue": "*rod"}]}},
     HOME, False),
    ({"Conditions": {"StringNotEquals": [{"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "no"}]}},
     HOME, True),
])
def test_which_resources_a_backup_selection_takes(selection: dict[str, Any], tags: dict[str, str],
                                                  selected: bool) -> None:
    assert selects(selection, ARN, tags) is selected


def test_backup_plan_rules_in_words() -> None:
    plan = {"BackupPlanName": "homes", "Rules": [
        {"ScheduleExpression": "cron(0 5 ? * * *)", "Lifecycle": {"DeleteAfterDays": 35}},
        {"ScheduleExpression": "cron(30 6 ? * MON,THU *)", "ScheduleExpressionTimezone": "Europe/Berlin",
         "Lifecycle": {"DeleteAfterDays": 1}},
        {"ScheduleExpression": "rate(12 hours)"},
    ]}
    assert plan_text(plan, "id") == [
        "AWS Backup plan homes: daily at 05:00 UTC, keep 35 days",
        "AWS Backup plan homes: weekly on Mon, Thu at 06:30 Europe/Berlin, keep 1 day",
        "AWS Backup plan homes: rate(12 hours) UTC, kept until deleted",
    ]


def test_a_cron_expression_that_is_not_daily_or_weekly_is_shown_as_written() -> None:
    assert cron_text("cron(0 */6 * * ? *)", "UTC") == "cron(0 */6 * * ? *) UTC"
    assert cron_text("", "UTC") == "on its schedule"
