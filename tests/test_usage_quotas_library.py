"""jupyterhub-usage-quotas itself reads quota policies from a hub's Helm values as z2jh's hub does.

These tests pin what the real library (0.2.1, in its own Python 3.12 virtualenv) accepts, refuses
and decides, so that the policies hubbot writes can be checked against the reader that enforces them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.usage_quotas import GIB_HOURS, Decision, Quota, QuotaLibrary, chart_values, read_quotas

STUDENTS_MEMORY = {"resource": "memory", "limit": "500G", "window": 30, "scope": {"group": ["students"]}}
STAFF_MEMORY = {"resource": "memory", "limit": "2000G", "window": 30, "scope": {"group": ["staff"]}}
STUDENTS_WEEK = {"resource": "memory", "limit": "100G", "window": 7, "scope": {"group": ["students"]}}
SHARED_CPU = {"resource": "cpu", "limit": 200, "window": 7, "scope": {"group": ["students", "staff"]}}


def hub_values(manager: Mapping[str, Any], *, root: str = "") -> dict[str, Any]:
    """A hub's merged values with ``UsageQuotaManager`` config under z2jh's ``hub.config``."""
    values: dict[str, Any] = {"jupyterhub": {"hub": {"config": {
        "JupyterHub": {"authenticator_class": "github"},
        "GitHubOAuthenticator": {"allowed_organizations": ["example"]},
        "UsageQuotaManager": dict(manager),
    }}}}
    return {"basehub": values} if root == "basehub." else values


@pytest.mark.parametrize("root", ["", "basehub."], ids=["basehub", "daskhub"])
def test_a_valid_policy_list_is_read_back_as_written(usage_quotas: QuotaLibrary, root: str) -> None:
    policy = [STUDENTS_MEMORY, {"resource": "cpu", "limit": 500, "window": 30, "scope": {"group": ["students"]}}]
    fallback = {"empty": {"resource": "memory", "limit": "100G", "window": 7}, "intersection": "max"}

    reading = usage_quotas.read(hub_values({"policy": policy, "scope_fallback_strategy": fallback}, root=root),
                                root=root)

    assert reading.ok, reading.error
    assert list(reading.policy) == policy
    assert reading.fallback == fallback
    assert reading.warnings == ()


def test_values_under_another_root_are_not_read(usage_quotas: QuotaLibrary) -> None:
    # A daskhub's z2jh values live under basehub.jupyterhub; a policy at the top-level jupyterhub is
    # nobody's, so the hub runs with no quotas at all.
    values = hub_values({"policy": [STUDENTS_MEMORY]}, root="")

    reading = usage_quotas.read(values, root="basehub.", users=[("alice", ["students"])])

    assert reading.ok
    assert reading.policy == ()
    assert reading.resolved == {"alice": ()}


@pytest.mark.parametrize(("strategy", "gib_hours", "limit"), [
    # The merged limit reads as written only when the policy that wins comes last among those merged;
    # otherwise it is the number in the policy's unit. pure_limit is what is enforced.
    (None, 500, 500.0),  # the library's default: {"intersection": "min"}
    ("min", 500, 500.0),
    ("max", 2000, "2000G"),
    ("sum", 2500, 2500.0),
])
def test_a_user_in_two_groups_gets_one_limit_per_resource_and_window(
        usage_quotas: QuotaLibrary, strategy: str | None, gib_hours: int, limit: str | float) -> None:
    manager: dict[str, Any] = {"policy": [STUDENTS_MEMORY, STAFF_MEMORY, STUDENTS_WEEK, SHARED_CPU]}
    if strategy is not None:
        manager["scope_fallback_strategy"] = {"intersection": strategy}

    reading = usage_quotas.read(hub_values(manager), root="",
                                users=[("bob", ["students", "staff"]), ("alice", ["students"])])

    assert reading.ok, reading.error
    assert reading.fallback == {"intersection": strategy or "min"}
    assert reading.resolved["bob"] == (
        Quota(resource="memory", limit=limit, pure_limit=gib_hours * GIB_HOURS, unit="G", window=30,
              groups=("staff", "students")),
        Quota(resource="memory", limit="100G", pure_limit=100 * GIB_HOURS, unit="G", window=7, groups=("students",)),
        # one policy naming both groups applies once, not twice
        Quota(resource="cpu", limit=200, pure_limit=200, unit="", window=7, groups=("staff", "students")),
    )
    assert reading.resolved["alice"] == (
        Quota(resource="memory", limit="500G", pure_limit=500 * GIB_HOURS, unit="G", window=30, groups=("students",)),
        Quota(resource="memory", limit="100G", pure_limit=100 * GIB_HOURS, unit="G", window=7, groups=("students",)),
        Quota(resource="cpu", limit=200, pure_limit=200, unit="", window=7, groups=("staff", "students")),
    )


def test_a_user_in_no_policy_group_gets_the_empty_fallback_if_set_else_nothing(usage_quotas: QuotaLibrary) -> None:
    users = [("carol", []), ("dave", ["other"])]
    empty = {"resource": "memory", "limit": "100G", "window": 7}

    with_fallback = usage_quotas.read(hub_values({
        "policy": [STUDENTS_MEMORY], "scope_fallback_strategy": {"empty": empty, "intersection": "min"}}),
        root="", users=users)
    without = usage_quotas.read(hub_values({"policy": [STUDENTS_MEMORY]}), root="", users=users)

    fallback = Quota(resource="memory", limit="100G", pure_limit=100 * GIB_HOURS, unit="G", window=7, groups=())
    assert with_fallback.resolved == {"carol": (fallback,), "dave": (fallback,)}
    assert without.ok
    assert without.resolved == {"carol": (), "dave": ()}


LIMIT = "Policy limit {} is not valid. Must be an integer or a string with optional suffix K, M, G, T."


@pytest.mark.parametrize(("manager", "message"), [
    ({"policy": [dict(STUDENTS_MEMORY, resource="gpu")]}, "'gpu' is not one of ['memory', 'cpu']"),
    ({"policy": [dict(STUDENTS_MEMORY, name="students")]},
     "Additional properties are not allowed ('name' was unexpected)"),
    ({"policy": [{k: v for k, v in STUDENTS_MEMORY.items() if k != "scope"}]}, "'scope' is a required property"),
    ({"policy": [dict(STUDENTS_MEMORY, window="30d")]}, "'30d' is not of type 'number'"),
    ({"policy": [dict(STUDENTS_MEMORY, limit="1.5G")]}, LIMIT.format("1.5G")),
    ({"policy": [dict(STUDENTS_MEMORY, limit="500Gi")]}, LIMIT.format("500Gi")),
    ({"scope_fallback_strategy": {"intersection": "avg"}},
     "Fallback strategy for 'intersection' scope must be either 'min', 'max' or 'sum'. Got value: avg"),
    ({"scope_fallback_strategy": {"empty": {"resource": "memory", "limit": "1G", "window": 7}}},
     "Must define fallback strategy for 'intersection' scope. Got keys: ['empty']"),
], ids=["gpu", "unknown-key", "no-scope", "window-text", "fraction", "binary-suffix", "avg", "no-intersection"])
def test_an_invalid_policy_is_refused_with_the_library_message(
        usage_quotas: QuotaLibrary, manager: dict[str, Any], message: str) -> None:
    reading = usage_quotas.read(hub_values(manager), root="", users=[("alice", ["students"])])

    assert not reading.ok
    assert reading.stage == "config"
    assert reading.first_error_line == message


def test_a_lowercase_suffix_passes_the_config_check_but_breaks_every_launch(usage_quotas: QuotaLibrary) -> None:
    # The config check matches [KMGT] ignoring case, resolve_policy does not: the hub starts, and each
    # launch of a user the policy applies to raises (then fails open or closed, failover_open).
    reading = usage_quotas.read(hub_values({"policy": [dict(STUDENTS_MEMORY, limit="500g")]}), root="",
                                users=[("alice", ["students"])])

    assert not reading.ok
    assert reading.stage == "resolve"
    assert reading.error == ("ValueError: 500g is not a valid resource specification. "
                             "Must be an int or a string with suffix K, M, G, T")


def test_a_misspelt_option_is_ignored_with_only_a_warning(usage_quotas: QuotaLibrary) -> None:
    reading = usage_quotas.read(hub_values({"policies": [STUDENTS_MEMORY]}), root="", users=[("alice", ["students"])])

    assert reading.ok
    assert reading.policy == ()
    assert reading.resolved == {"alice": ()}
    assert reading.warnings == ("Config option `policies` not recognized by `UsageQuotaManager`.  "
                                "Did you mean `policy`?",)


@pytest.mark.parametrize(("used", "allowed"), [(499, True), (500, False), (501, False)])
def test_a_memory_limit_denies_from_the_limit_in_gib_hours(
        usage_quotas: QuotaLibrary, used: int, allowed: bool) -> None:
    reading = usage_quotas.read(hub_values({"policy": [STUDENTS_MEMORY, SHARED_CPU]}), root="",
                                users=[("alice", ["students"])], usage={"alice": {"memory": used * GIB_HOURS}})

    assert reading.ok, reading.error
    message = (f"Current memory usage = {used}.00 GiB-hours is over the quota limit of 500.00 GiB-hours "
               "over the last 30 days.")
    assert reading.decisions["alice"] == (
        Decision(resource="memory", window=30, allowed=allowed, message=None if allowed else message),)


def test_a_cpu_limit_is_in_cpu_hours(usage_quotas: QuotaLibrary) -> None:
    values = hub_values({"policy": [SHARED_CPU]})

    under = usage_quotas.read(values, root="", users=[("bob", ["staff"])], usage={"bob": {"cpu": 199.5}})
    at = usage_quotas.read(values, root="", users=[("bob", ["staff"])], usage={"bob": {"cpu": 200}})

    assert [d.allowed for d in under.decisions["bob"]] == [True]
    message = "Current cpu usage = 200.00 CPU-hours is over the quota limit of 200.00 CPU-hours over the last 7 days."
    assert at.decisions["bob"] == (Decision(resource="cpu", window=7, allowed=False, message=message),)


def test_a_one_off_reading_runs_a_process_of_its_own(usage_quotas_python: Path) -> None:
    reading = read_quotas(usage_quotas_python, hub_values({"policy": [STUDENTS_MEMORY]}, root="basehub."),
                          root="basehub.", users=[("alice", ["students"])])

    assert reading.ok
    assert [q.limit for q in reading.resolved["alice"]] == ["500G"]


def test_chart_values_are_found_under_the_root() -> None:
    inner: dict[str, Any] = {"hub": {"config": {}}}

    assert chart_values({"jupyterhub": inner}, "") == inner
    assert chart_values({"basehub": {"jupyterhub": inner}}, "basehub.") == inner
    assert chart_values({"jupyterhub": inner}, "basehub.") == {}
    assert chart_values({"basehub": None}, "basehub.") == {}
    with pytest.raises(ValueError, match="ends with a dot"):
        chart_values({}, "basehub")
