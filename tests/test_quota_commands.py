"""``/hub quota ...`` through the dispatcher: the limits a daskhub-style hub's values set and their
use; changes checked strictly, against use and against the community's ceilings, confirmed, and
stored as hubbot's overlay (which the next deploy applies); nothing changes on a refusal."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from hubbot.adapters.memory import MemoryAuditLog, MemoryHubApi, MemoryNamespaceQuotas, MemoryUsageMetrics, ServerRun
from hubbot.domain import HomeUse, NamespaceQuota, Outcome
from hubbot.pipeline.contract import Reply
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.quotas import values as hv
from hubbot.quotas.limits import policies_for, read
from tests.support.fleet import ENGINEER, ENGINEER_2, FLEET_YAML, LEADER_A, MEMBER_A
from tests.support.kube_control_plane import ControlPlane
from tests.support.memory import click, dispatcher, run
from tests.support.usage_quotas import QuotaLibrary

HUB = "aws-cluster/prod"
GIB = 1024**3
VALUES = """
basehub:
  jupyterhub-home-nfs:
    enabled: true
    quotaEnforcer:
      config:
        QuotaManager:
          hard_quota: 10 # in GiB
          quota_overrides: {bo: 40}
  jupyterhub:
    singleuser:
      memory: {guarantee: 1G, limit: 2G}
      profileList:
        - display_name: Choose your resources
          profile_options:
            resource_allocation:
              choices:
                small: {display_name: Small, kubespawner_override: {cpu_limit: 1, mem_limit: 4G}}
                big: {display_name: Big, allowed_groups: [students],
                      kubespawner_override: {cpu_guarantee: 2, cpu_limit: 4, mem_guarantee: 8G, mem_limit: 16G}}
    hub:
      config:
        UsageQuotaManager:
          policy:
            - {resource: cpu, limit: 100, window: 30, scope: {group: [students, staff]}}
            - {resource: memory, limit: "400G", window: 30, scope: {group: [students]}}
"""


@pytest.fixture
def fleet_with_values(tmp_path: Path) -> Path:
    (tmp_path / "prod.values.yaml").write_text(VALUES)
    text = FLEET_YAML.replace("{name: prod, community: alpha, domain: alpha.test, tier: prod}",
                              "{name: prod, community: alpha, domain: alpha.test, tier: prod, "
                              "values: [prod.values.yaml]}")
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


def _bot(fleet_file: Path) -> Dispatcher:
    d, _ = dispatcher(fleet_file)
    now = d.services.clock.now()
    api = MemoryHubApi(HUB, users=["ana", "bo", "cy", "dee"], groups={"students": ["ana", "bo"], "staff": ["cy"]})
    runs = [ServerRun(user="ana", pod="jupyter-ana", start=now - timedelta(days=3), end=now - timedelta(days=2),
                      cpu=1, memory=GIB, cpu_request=3, memory_request=2 * GIB)]  # 72 CPU-h, 48 GiB-h requested
    metrics = MemoryUsageMetrics(runs={"prod": runs}, homes={"prod": [
        HomeUse("ana", 9 * GIB), HomeUse("bo", 30 * GIB), HomeUse("cy", GIB // 2)]})
    d.services = dataclasses.replace(d.services, hub_apis={**d.services.hub_apis, HUB: api},
                                     usage={**d.services.usage, "aws-cluster": metrics})
    return d


async def test_show_lists_every_limit_and_its_use(fleet_with_values: Path) -> None:
    reply = await run(_bot(fleet_with_values), f"quota show {HUB}", user=LEADER_A)
    assert reply.ok, reply.text
    text = reply.text
    assert "Home storage: 10 GiB per home directory" in text
    assert "overrides: bo 40 GiB" in text
    assert "ana 9 GiB (90%)" in text and "bo" not in text.split("at 80 % or more")[1].splitlines()[0]
    assert "group students, staff: 100 CPU-hours per 30 days each — 0 at the limit, 0 above 80 %" in text
    assert "group students: 400 memory GiB-hours per 30 days each" in text
    assert "highest ana 72 (72%)" in text  # requested, as the library counts it
    assert "users in none of these groups: no compute limit" in text
    assert "Choose your resources: Big: CPU 2–4, memory 8 GiB–16 GiB (groups: students)" in text
    assert "default: memory 1 GiB–2 GiB" in text


async def test_a_member_sees_limits_without_anyones_name(fleet_with_values: Path) -> None:
    reply = await run(_bot(fleet_with_values), f"quota show {HUB}", user=MEMBER_A)
    assert reply.ok
    assert "1 user override(s)" in reply.text and "ana" not in reply.text and "bo 40" not in reply.text


@pytest.mark.parametrize("text,message", [
    ("storage=20", "a size needs a unit ('20')"),
    ("storage=20gb", "'gb' is not a unit hubbot reads"),
    ("storage=-5GiB", "storage cannot be negative"),
    ("storage=20GiB storage=30GiB", "storage is given twice"),
    ("cpu-hours=500/30d", "cpu-hours is set per group: add --group NAME"),
    ("--group students cpu-hours=500", "give cpu-hours as hours per window, e.g. cpu-hours=500/30d"),
    ("--group students cpu-hours=500/13h", "a window of 13h is not a whole number of days"),
    ("--group students cpu-hours=500/400d", "a window is between 1 and 366 days"),
    ("--group students cpu-hours=0/30d", "cpu-hours must be more than 0"),
    ("--group students cpu-hours=1.5/30d", "cpu-hours is a whole number of hours"),
    ("--group students storage=2GiB", "storage is set for every home directory, or one user's with --user"),
    ("gpu=1", "'gpu' is not a hub limit"),
    ("namespace cpu=lots", "'lots' is not a CPU amount: give cores (64, 0.5) or millicores (500m)"),
    ("namespace cpu=0.0001", "is not a whole number of millicores"),
    ("namespace widgets=3", "'widgets' is not a namespace limit hubbot sets"),
    ("namespace pods=many", "pods is a count"),
    ("namespace cpu=4 --group students", "--group and --user are for hub limits"),
    ("--group nobody cpu-hours=5/30d", "has no group 'nobody'"),
    ("storage=20GiB --user zed", "has no user 'zed'"),
    ("", "say what to set"),
])
async def test_bad_settings_say_what_to_write_and_change_nothing(fleet_with_values: Path, text: str,
                                                                 message: str) -> None:
    d = _bot(fleet_with_values)
    reply = await run(d, f"quota set {HUB} {text}", user=ENGINEER)
    assert not reply.ok and message in reply.text, reply.text
    assert "Traceback" not in reply.text
    assert d.services.overlays is not None and await d.services.overlays.get(HUB) is None


async def test_a_storage_quota_below_use_needs_force(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    refused = await run(d, f"quota set {HUB} storage=8GiB", user=ENGINEER)
    assert refused.kind != "ok" and "below what is already used: ana 9 GiB" in refused.text
    assert "bo" not in refused.text  # bo keeps an override of 40 GiB
    assert "Add --force" in refused.text
    asked = await run(d, f"quota set {HUB} storage=8GiB --force", user=ENGINEER)
    assert "Please confirm: set on aws-cluster/prod: storage 8 GiB for every home directory" in asked.text


async def test_a_compute_policy_below_a_members_use_needs_force(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    refused = await run(d, f"quota set {HUB} --group students cpu-hours=50/30d", user=ENGINEER)
    assert "below what is already used: ana 72 cpu-hours" in refused.text


async def test_a_leader_stays_within_the_ceilings(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    above = await run(d, f"quota set {HUB} storage=60GiB", user=LEADER_A)
    assert above.kind == "denied" and "above the ceiling for alpha (50GiB)" in above.text
    rate = await run(d, f"quota set {HUB} --group students cpu-hours=300/7d", user=LEADER_A)
    assert rate.kind == "denied" and "pro rata" in rate.text  # 300 a week is above 1000 a month
    none = await run(d, f"quota set {HUB} --group students memory-hours=10/30d", user=LEADER_A)
    assert none.kind == "denied" and "no ceiling is set for memory-hours" in none.text
    within = await run(d, f"quota set {HUB} storage=20GiB", user=LEADER_A)
    assert "Please confirm" in within.text
    engineer = await run(d, f"quota set {HUB} storage=60GiB", user=ENGINEER)
    assert "Please confirm" in engineer.text


async def test_set_is_confirmed_stored_in_the_overlay_and_shown_by_diff(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    await _confirmed(d, f"quota set {HUB} storage=20GiB")
    await _confirmed(d, f"quota set {HUB} storage=50GiB --user ana")
    await _confirmed(d, f"quota set {HUB} --group students cpu-hours=500/30d memory-hours=2000/30d")
    assert d.services.overlays is not None
    stored = await d.services.overlays.get(HUB)
    assert stored is not None and stored.revision == 3 and stored.updated_by == ENGINEER
    overlay = yaml.safe_load(stored.values)
    manager = overlay["basehub"]["jupyterhub-home-nfs"]["quotaEnforcer"]["config"]["QuotaManager"]
    assert manager == {"hard_quota": 20, "quota_overrides": {"ana": 50}}
    policy = overlay["basehub"]["jupyterhub"]["hub"]["config"]["UsageQuotaManager"]["policy"]
    assert policy == [  # students leave the shared cpu policy; staff keep it
        {"resource": "cpu", "limit": 100, "window": 30, "scope": {"group": ["staff"]}},
        {"resource": "cpu", "limit": 500, "window": 30, "scope": {"group": ["students"]}},
        {"resource": "memory", "limit": "2000G", "window": 30, "scope": {"group": ["students"]}},
    ]
    shown = await run(d, f"quota show {HUB}", user=ENGINEER)
    assert "Home storage: 20 GiB per home directory" in shown.text and "ana 50 GiB" in shown.text
    assert "group students: 500 CPU-hours per 30 days each" in shown.text
    diff = await run(d, f"quota diff {HUB}", user=LEADER_A)
    assert "revision 3" in diff.text and "waiting for the next deploy" in diff.text
    assert "basehub.jupyterhub-home-nfs.quotaEnforcer.config.QuotaManager.hard_quota: 10 → 20" in diff.text
    assert isinstance(d.services.audit, MemoryAuditLog)
    changed = [e for e in d.services.audit.entries if e.outcome is Outcome.CHANGED]
    assert [e.command for e in changed] == ["quota set"] * 3


async def test_reset_goes_back_to_the_hubs_own_values(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    await _confirmed(d, f"quota set {HUB} storage=20GiB")
    await _confirmed(d, f"quota reset {HUB} storage")
    await _confirmed(d, f"quota reset {HUB} storage --user bo")  # bo's override is in the hub's file
    await _confirmed(d, f"quota reset {HUB} --group staff cpu-hours")
    assert d.services.overlays is not None
    stored = await d.services.overlays.get(HUB)
    assert stored is not None
    overlay = yaml.safe_load(stored.values)
    manager = overlay["basehub"]["jupyterhub-home-nfs"]["quotaEnforcer"]["config"]["QuotaManager"]
    assert manager == {"quota_overrides": {"bo": None}}  # a null removes the file's override
    shown = await run(d, f"quota show {HUB}", user=ENGINEER)
    assert "Home storage: 10 GiB per home directory" in shown.text and "overrides" not in shown.text
    assert "group students: 100 CPU-hours" in shown.text


async def test_two_changes_decided_at_once_cannot_lose_one(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    first = await run(d, f"quota set {HUB} storage=20GiB", user=ENGINEER)
    second = await run(d, f"quota set {HUB} storage=30GiB --user ana", user=ENGINEER)
    assert "Please confirm" in first.text and "Please confirm" in second.text
    ok = await click(d, first, "Confirm", user=ENGINEER)
    assert ok.ok, ok.text
    late = await click(d, second, "Confirm", user=ENGINEER)
    assert "changed while you were deciding" in late.text


async def _confirmed(d: Dispatcher, text: str) -> Reply:
    question = await run(d, text, user=ENGINEER)
    assert "Please confirm" in question.text, question.text
    answer = await click(d, question, "Confirm", user=ENGINEER)
    assert answer.ok and "Saved for" in answer.text, answer.text
    return answer


async def test_the_policies_set_from_chat_are_what_the_real_library_reads(fleet_with_values: Path,
                                                                          usage_quotas: QuotaLibrary) -> None:
    d = _bot(fleet_with_values)
    await _confirmed(d, f"quota set {HUB} --group students cpu-hours=500/30d memory-hours=2000/30d")
    await _confirmed(d, f"quota set {HUB} --group staff memory-hours=300/7d")
    assert d.services.overlays is not None
    stored = await d.services.overlays.get(HUB)
    assert stored is not None
    merged = hv.load([fleet_with_values.parent / "prod.values.yaml"], overlay=stored.values)  # as helm merges
    people = [("ana", ["students"]), ("cy", ["staff"]), ("dee", []), ("both", ["students", "staff"])]
    reading = usage_quotas.read(merged, root="basehub.", users=people,
                                usage={"ana": {"cpu": 499.0, "memory": 2000.0 * GIB}})
    assert reading.ok and not reading.warnings, reading
    found = {name: sorted((q.resource, q.pure_limit, q.window) for q in quotas)
             for name, quotas in reading.resolved.items()}
    assert found == {
        "ana": [("cpu", 500, 30), ("memory", 2000 * GIB, 30)],
        "cy": [("cpu", 100, 30), ("memory", 300 * GIB, 7)],
        "dee": [],
        "both": [("cpu", 100, 30), ("memory", 300 * GIB, 7), ("memory", 2000 * GIB, 30)],
    }
    decided = {(x.resource, x.allowed) for x in reading.decisions["ana"]}
    assert decided == {("cpu", True), ("memory", False)}  # at the memory limit a launch is refused
    # hubbot's own reading of the same values (what /hub quota show says) agrees with the library
    limits = read(merged)
    for name, groups in people:
        ours = sorted((p.resource, float(p.limit) * (GIB if p.resource == "memory" else 1), p.days)
                      for p in policies_for(limits, tuple(groups)))
        assert ours == [(r, float(v), w) for r, v, w in found[name]], name


@pytest.mark.parametrize("combine", ["min", "max", "sum"])
def test_hubbot_combines_a_users_policies_as_the_library_does(usage_quotas: QuotaLibrary, combine: str) -> None:
    merged = hv.load([], overlay=VALUES)
    strategy = ("basehub", "jupyterhub", "hub", "config", "UsageQuotaManager", "scope_fallback_strategy")
    merged = hv.put(merged, strategy, {"intersection": combine, "empty": {"resource": "cpu", "limit": 7,
                                                                          "window": 3}})
    merged = hv.put(merged, (*strategy[:-1], "policy"), [
        *hv.get(merged, (*strategy[:-1], "policy")),
        {"resource": "cpu", "limit": 40, "window": 30, "scope": {"group": ["staff"]}}])
    people = [("ana", ["students"]), ("cy", ["staff"]), ("dee", ["nobody"]), ("both", ["students", "staff"])]
    reading = usage_quotas.read(merged, root="basehub.", users=people)
    assert reading.ok, reading
    limits = read(merged)
    for name, groups in people:
        theirs = sorted((q.resource, float(q.pure_limit), q.window) for q in reading.resolved[name])
        ours = sorted((p.resource, float(p.limit) * (GIB if p.resource == "memory" else 1), p.days)
                      for p in policies_for(limits, tuple(groups)))
        assert ours == theirs, (combine, name)


async def test_a_namespace_quota_is_made_then_changed_at_once_after_confirmation(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    staging = "aws-cluster/staging"
    made = await _decided(d, f"quota set {staging} namespace cpu=64 memory=256GiB pods=100", "Confirm")
    assert "ResourceQuota hubbot of aws-cluster/staging now: pods 100, requests.cpu 64, requests.memory 256Gi" \
        in made.text
    changed = await _decided(d, f"quota set {staging} namespace cpu=500m", "Confirm")
    assert "requests.cpu 500m" in changed.text and "pods 100" in changed.text
    reset = await _decided(d, f"quota reset {staging} namespace pods", "Confirm")
    assert "pods" not in reset.text.split("now:")[1]
    shown = await run(d, f"quota show {staging}", user=ENGINEER)
    assert "Namespace ResourceQuota hubbot (hubbot's): requests.cpu ?/500m, requests.memory ?/256Gi" in shown.text


async def test_a_prod_namespace_quota_waits_for_a_second_engineer(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    asked = await run(d, f"quota set {HUB} namespace cpu=64", user=ENGINEER)
    assert "Approval needed" in asked.text
    assert "cannot approve your own" in (await click(d, asked, "Approve", user=ENGINEER)).text
    done = await click(d, asked, "Approve", user=ENGINEER_2)
    assert done.ok and "requests.cpu 64" in done.text, done.text


async def test_a_namespace_quota_below_its_use_needs_force(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    quotas = d.services.namespace_quotas
    assert isinstance(quotas, MemoryNamespaceQuotas)
    quotas.add_quota("aws-cluster", "staging", NamespaceQuota("hubbot", hard={"requests.cpu": "8"}, managed=True))
    quotas.record_use("aws-cluster", "staging", "hubbot", {"requests.cpu": "6500m"})
    refused = await run(d, "quota set aws-cluster/staging namespace cpu=4", user=ENGINEER)
    assert "below what the namespace already uses (requests.cpu uses 6500m)" in refused.text
    assert "Please confirm" in (await run(d, "quota set aws-cluster/staging namespace cpu=4 --force",
                                          user=ENGINEER)).text
    # the quota controller writes use in whatever form: 256 GiB as plain bytes is still 256 GiB
    quotas.record_use("aws-cluster", "staging", "hubbot", {"requests.memory": "274877906944"})
    memory = await run(d, "quota set aws-cluster/staging namespace memory=128GiB", user=ENGINEER)
    assert "(requests.memory uses 274877906944)" in memory.text, memory.text


async def _decided(d: Dispatcher, text: str, label: str) -> Reply:
    question = await run(d, text, user=ENGINEER)
    assert label in str(question.blocks), question.text
    answer = await click(d, question, label, user=ENGINEER)
    assert answer.ok, answer.text
    return answer


@pytest.mark.kube
async def test_a_namespace_quota_set_from_chat_is_the_real_api_servers(
        tmp_path: Path, kube_control_plane: ControlPlane, kube_namespace: str) -> None:
    from kubernetes import client

    from hubbot.adapters.kube import KubeClusters
    from hubbot.fleet import load_fleet
    from tests.support.kube_control_plane import wait_until

    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(f"""
providers: {{csv: {{kind: csv, path: costs.csv}}}}
clusters:
  - name: real
    provider: csv
    kubernetes: {{kind: kubeconfig, path: "{kube_control_plane.kubeconfig}"}}
    hubs: [{{name: {kube_namespace}, community: alpha, domain: x.test, tier: staging}}]
communities: [{{name: alpha, leaders: [{LEADER_A}]}}]
roles: {{engineers: [{ENGINEER}]}}
""")
    d, _ = dispatcher(fleet_file)
    d.services = dataclasses.replace(d.services, namespace_quotas=KubeClusters(load_fleet(fleet_file)))
    hub = f"real/{kube_namespace}"
    await _decided(d, f"quota set {hub} namespace cpu=4 memory=8GiB pods=20", "Confirm")
    core = client.CoreV1Api(kube_control_plane.api_client())
    made = core.read_namespaced_resource_quota("hubbot", kube_namespace)
    assert made.spec.hard == {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "20"}
    assert made.metadata.labels["app.kubernetes.io/managed-by"] == "hubbot"
    wait_until(lambda: (core.read_namespaced_resource_quota("hubbot", kube_namespace).status.used or {}),
               message="the quota controller to write what is used")
    shown = await run(d, f"quota show {hub}", user=ENGINEER)
    assert "Namespace ResourceQuota hubbot (hubbot's): pods 0/20, requests.cpu 0/4, requests.memory 0/8Gi" \
        in shown.text, shown.text
    await _decided(d, f"quota reset {hub} namespace pods", "Confirm")
    assert core.read_namespaced_resource_quota("hubbot", kube_namespace).spec.hard == {
        "requests.cpu": "4", "requests.memory": "8Gi"}
    leader = await run(d, f"quota set {hub} namespace cpu=2", user=LEADER_A)
    assert leader.kind == "denied" and "no ceiling is set" in leader.text  # alpha has no ceilings here


async def test_an_engineer_is_offered_to_deploy_the_change_now(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    saved = await _confirmed(d, f"quota set {HUB} storage=20GiB")
    assert "Deploy now" in str(saved.blocks)
    asked = await click(d, saved, "Deploy now", user=ENGINEER)
    assert "Approval needed: deploy aws-cluster/prod" in asked.text  # a prod hub waits for a second engineer
    started = await click(d, asked, "Approve", user=ENGINEER_2)
    assert started.ok and "aws-cluster/prod" in started.text, started.text
    assert d.services.deploys is not None
    jobs = await d.services.deploys.jobs.recent(communities=None, active_only=False, limit=5)
    assert [j.hub for j in jobs] == [HUB]


async def test_a_leader_is_told_an_engineer_deploys_it(fleet_with_values: Path) -> None:
    d = _bot(fleet_with_values)
    question = await run(d, f"quota set {HUB} storage=20GiB", user=LEADER_A)
    saved = await click(d, question, "Confirm", user=LEADER_A)
    assert "an engineer's next deploy applies it" in saved.text and "Deploy now" not in str(saved.blocks)
