"""The Kubernetes side of deploys and quotas: credentials for each cluster, the rollout state and
pods of a namespace, and its ResourceQuotas, through the official Kubernetes client.

Credentials come from the cluster's ``kubernetes:`` section in the fleet config: an EKS cluster's
endpoint and CA from the EKS API with a token signed like ``aws eks get-token``
(:mod:`~hubbot.adapters.kube.eks`); a GKE cluster's from the GKE API with a token from Google
application credentials (:mod:`~hubbot.adapters.kube.gke`); or a kubeconfig file. Objects are read
as raw JSON and judged by :mod:`hubbot.deploys.rollout` (:mod:`~hubbot.adapters.kube.clusters`);
ResourceQuotas are read and changed by :mod:`~hubbot.adapters.kube.quotas`. Both go through API
clients kept between calls (:mod:`~hubbot.adapters.kube.clients`), and
:mod:`~hubbot.adapters.kube.calls` says what a failed call means. Blocking SDK calls run in
worker threads and the SDKs are imported on first use. Tokens never appear in errors.

Public surface: :class:`KubeClusters` (the :class:`hubbot.ports.Clusters` and
:class:`hubbot.ports.usage.NamespaceQuotas` ports), and :func:`eks_token` with
:data:`EKS_TOKEN_PREFIX`.
"""

from __future__ import annotations

from hubbot.adapters.kube.clusters import KubeClusters
from hubbot.adapters.kube.eks import EKS_TOKEN_PREFIX, eks_token

__all__ = ["EKS_TOKEN_PREFIX", "KubeClusters", "eks_token"]
