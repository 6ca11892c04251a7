"""The test control plane behaves as a cluster does: its controllers roll Deployments out, quotas are
enforced and counted, tokens are checked and namespaces go away with what they hold."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube_control_plane import ControlPlane, wait_until
from tests.support.kube_node import TestNode

pytestmark = pytest.mark.kube


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "hub", "image": "quay.io/jupyterhub/k8s-hub:4.0.0",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}},
    }


def _pod(name: str, cpu_limit: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [
        {"name": "main", "image": "busybox:1.36",
         "resources": {"limits": {"cpu": cpu_limit, "memory": "64Mi"},
                       "requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def test_a_deployment_is_rolled_out_by_the_real_controllers(kube_control_plane: ControlPlane, kube_node: TestNode,
                                                          kube_namespace: str) -> None:
    api = kube_control_plane.api_client()
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(kube_namespace, _deployment("hub", 2))

    def replica_set() -> Any:
        found = apps.list_namespaced_replica_set(kube_namespace, label_selector="app=hub").items
        owned = [rs for rs in found if any(ref.kind == "Deployment" and ref.name == "hub"
                                           for ref in rs.metadata.owner_references or [])]
        return owned[0] if owned else None

    rs = wait_until(replica_set, 30, "the deployment controller to create a ReplicaSet for deployment hub")
    pods = wait_until(lambda: len(kube_node.pods(kube_namespace, "app=hub")) == 2 and
                      kube_node.pods(kube_namespace, "app=hub"), 30,
                      "the replica set controller to create 2 pods")
    assert all(p.metadata.owner_references[0].name == rs.metadata.name for p in pods)
    assert all(not p.spec.node_name for p in pods)  # no scheduler runs: the node helper places them
    assert not apps.read_namespaced_deployment("hub", kube_namespace).status.available_replicas

    assert sorted(kube_node.run(kube_namespace, "app=hub")) == sorted(p.metadata.name for p in pods)

    def rolled_out() -> Any:
        deployment = apps.read_namespaced_deployment("hub", kube_namespace)
        progressing = [c for c in deployment.status.conditions or [] if c.type == "Progressing"]
        done = (deployment.status.available_replicas == 2 and deployment.status.updated_replicas == 2
                and progressing and progressing[0].reason == "NewReplicaSetAvailable")
        return deployment if done else None

    deployment = wait_until(rolled_out, 30, "deployment hub to report 2 available replicas and NewReplicaSetAvailable")
    assert deployment.status.ready_replicas == 2
    available = next(c for c in deployment.status.conditions if c.type == "Available")
    assert available.status == "True"
    for pod in kube_node.pods(kube_namespace, "app=hub"):
        assert pod.spec.node_name == kube_node.name and pod.status.phase == "Running"


def test_a_resource_quota_refuses_a_pod_over_it_and_counts_what_is_used(kube_control_plane: ControlPlane,
                                                                       kube_namespace: str) -> None:
    core = client.CoreV1Api(kube_control_plane.api_client())
    core.create_namespaced_resource_quota(kube_namespace, {
        "metadata": {"name": "compute"}, "spec": {"hard": {"limits.cpu": "1", "pods": "5"}}})

    def used() -> dict[str, str]:
        quota = core.read_namespaced_resource_quota("compute", kube_namespace)
        return dict(quota.status.used or {}) if quota.status else {}

    # The resource quota controller fills status.used in (0 at first) before admission can count on it.
    assert wait_until(lambda: used().get("limits.cpu"), 30, "the quota controller to fill in status.used") == "0"

    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod(kube_namespace, _pod("too-big", "2"))
    assert refused.value.status == 403
    assert "exceeded quota: compute" in str(refused.value.body)
    assert "limits.cpu=2" in str(refused.value.body)

    core.create_namespaced_pod(kube_namespace, _pod("fits", "500m"))
    wait_until(lambda: used().get("limits.cpu") == "500m" and used().get("pods") == "1", 30,
               "quota compute to count the pod that fits (limits.cpu=500m, pods=1)")


def test_a_wrong_token_is_refused_and_the_real_ones_work(kube_control_plane: ControlPlane) -> None:
    wrong = client.CoreV1Api(kube_control_plane.api_client(config_file=kube_control_plane.wrong_token_kubeconfig()))
    with pytest.raises(ApiException) as refused:
        wrong.list_namespace()
    assert refused.value.status == 401

    by_token = client.CoreV1Api(kube_control_plane.api_client())
    by_cert = client.CoreV1Api(kube_control_plane.api_client(context="admin-cert"))
    for api in (by_token, by_cert):
        assert "default" in {ns.metadata.name for ns in api.list_namespace().items}


def test_a_deleted_namespace_goes_away_once_its_contents_are_gone(kube_control_plane: ControlPlane) -> None:
    core = client.CoreV1Api(kube_control_plane.api_client())
    name = "doomed-" + kube_control_plane.token[:6]
    core.create_namespace({"metadata": {"name": name}})
    # A finalizer keeps the namespace Terminating until the test lets it go.
    core.create_namespaced_config_map(name, {"metadata": {"name": "held", "finalizers": ["hubbot.test/hold"]}})
    core.delete_namespace(name)

    assert wait_until(lambda: core.read_namespace(name).status.phase == "Terminating", 30,
                      f"namespace {name} to be Terminating")
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map(name, {"metadata": {"name": "late"}})
    assert refused.value.status == 403
    assert "because it is being terminated" in str(refused.value.body)

    core.patch_namespaced_config_map("held", name, {"metadata": {"finalizers": None}})

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except ApiException as e:
            if e.status == 404:
                return True
            raise
        return False

    wait_until(gone, 60, f"the namespace controller to remove namespace {name}")


def test_a_new_image_rolls_out_as_the_node_starts_new_pods_and_stops_old_ones(
        kube_control_plane: ControlPlane, kube_node: TestNode, kube_namespace: str) -> None:
    apps = client.AppsV1Api(kube_control_plane.api_client())
    apps.create_namespaced_deployment(kube_namespace, _deployment("hub", 2))
    wait_until(lambda: len(kube_node.pods(kube_namespace, "app=hub")) == 2, 30, "2 pods of deployment hub")
    kube_node.run(kube_namespace, "app=hub")
    wait_until(lambda: apps.read_namespaced_deployment("hub", kube_namespace).status.available_replicas == 2, 30,
               "deployment hub to have 2 available replicas")

    apps.patch_namespaced_deployment("hub", kube_namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "hub", "image": "quay.io/jupyterhub/k8s-hub:4.1.0"}]}}}})

    def rolled_out() -> bool:
        # The node's part while the controllers step through the rollout: start new pods, stop old ones.
        kube_node.run(kube_namespace, "app=hub")
        kube_node.reap(kube_namespace, "app=hub")
        deployment = apps.read_namespaced_deployment("hub", kube_namespace)
        status = deployment.status
        progressing = [c for c in status.conditions or [] if c.type == "Progressing"]
        return bool(status.observed_generation == deployment.metadata.generation and status.replicas == 2
                    and status.updated_replicas == 2 and status.available_replicas == 2
                    and progressing and progressing[0].reason == "NewReplicaSetAvailable")

    wait_until(rolled_out, 60, "deployment hub to roll out image 4.1.0")
    images = {p.spec.containers[0].image for p in kube_node.pods(kube_namespace, "app=hub")}
    assert images == {"quay.io/jupyterhub/k8s-hub:4.1.0"}
    sets = apps.list_namespaced_replica_set(kube_namespace, label_selector="app=hub").items
    assert sorted(rs.spec.replicas for rs in sets) == [0, 2]


def test_the_node_can_report_pods_that_cannot_pull_crash_or_be_scheduled(
        kube_control_plane: ControlPlane, kube_node: TestNode, kube_namespace: str) -> None:
    api = kube_control_plane.api_client()
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    for name in ("pull", "crash", "pending"):
        apps.create_namespaced_deployment(kube_namespace, _deployment(name, 1))
    wait_until(lambda: len(kube_node.pods(kube_namespace)) == 3, 30, "one pod of each deployment")

    assert len(kube_node.fail_image_pull(kube_namespace, "app=pull")) == 1
    assert len(kube_node.crash_loop(kube_namespace, "app=crash", restarts=4)) == 1
    assert len(kube_node.unschedulable(kube_namespace, "app=pending")) == 1

    def pod(app: str) -> Any:
        (found,) = core.list_namespaced_pod(kube_namespace, label_selector=f"app={app}").items
        return found

    pulling = pod("pull")
    assert pulling.status.phase == "Pending" and pulling.spec.node_name == kube_node.name
    assert pulling.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    crashing = pod("crash").status
    assert crashing.phase == "Running" and crashing.container_statuses[0].restart_count == 4
    assert crashing.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    assert crashing.container_statuses[0].state.running is None
    assert crashing.container_statuses[0].last_state.terminated.exit_code == 1
    pending = pod("pending")
    assert not pending.spec.node_name
    (scheduled,) = [c for c in pending.status.conditions if c.type == "PodScheduled"]
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")

    for name in ("pull", "crash", "pending"):
        wait_until(lambda name=name: apps.read_namespaced_deployment(name, kube_namespace).status.unavailable_replicas
                   == 1, 30, f"deployment {name} to count its pod unavailable")
        assert not apps.read_namespaced_deployment(name, kube_namespace).status.available_replicas
