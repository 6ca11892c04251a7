"""The limits in force on a hub — home storage (jupyterhub-home-nfs), compute policies per group
(jupyterhub-usage-quotas), server sizes (KubeSpawner profiles), the namespace's ResourceQuota —
read from the hub's values and cluster, and changed through hubbot's values overlay or the
Kubernetes API."""
