"""The restore procedure for one snapshot, written out for an engineer to follow. Nothing here
runs: every step is a command to read, check and run by hand, and no step touches the live home
directories until the last one, which copies one user's folder (or, without a user, says how to
compare before copying anything).

The shape is the same on every provider: make a new volume from the snapshot next to the live
one, mount it read-only in a pod beside the hub's home share, and copy back with rsync. On a
jupyterhub-home-nfs server the homes are folders ``<hub>/<escaped user name>`` on the volume."""

from __future__ import annotations

from hubbot.domain import BackupKind, BackupTarget, Snapshot, Volume, home_folder

POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  restartPolicy: Never
  containers:
    - name: restore
      image: ubuntu:24.04
      command: [sleep, infinity]
      volumeMounts:
        - {{name: snapshot, mountPath: /restore, readOnly: true}}
        - {{name: home, mountPath: /home-live}}
  volumes:
    - {{name: snapshot, persistentVolumeClaim: {{claimName: {name}, readOnly: true}}}}
    - {{name: home, persistentVolumeClaim: {{claimName: home-nfs}}}}  # the hub's home share (check its name)"""

PV = """apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}}}
spec:
  capacity: {{storage: {size}Gi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  csi: {{driver: {driver}, volumeHandle: {handle}, readOnly: true}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: {name}
  resources: {{requests: {{storage: {size}Gi}}}}"""


def _block(text: str) -> str:
    return f"```\n{text}\n```"


def _copy_steps(target: BackupTarget, namespace: str, name: str, user: str | None) -> list[str]:
    hub = target.hub.split("/", 1)[-1]
    folder = home_folder(user) if user else None
    look = _block(f"kubectl -n {namespace} exec {name} -- ls /restore/{hub}")
    steps = [f"Check the folder is there, read-only: {look}"]
    if folder:
        steps.append(
            f"Ask {user} to stop their server, then copy their folder back (files newer on the live side are kept "
            f"with --update; drop it to restore exactly): "
            + _block(f"kubectl -n {namespace} exec {name} -- rsync -a --update /restore/{hub}/{folder}/ "
                     f"/home-live/{folder}/"))
    else:
        steps.append("Compare a user's folder before copying anything (no user was named): "
                     + _block(f"kubectl -n {namespace} exec {name} -- diff -rq /restore/{hub}/<folder> "
                              f"/home-live/<folder>"))
    steps.append("Clean up when done (the restored volume is kept by the Retain policy until you delete it): "
                 + _block(f"kubectl -n {namespace} delete pod/{name} pvc/{name}\nkubectl delete pv/{name}"))
    return steps


def restore_plan(target: BackupTarget, snapshot: Snapshot, *, volume: Volume | None, user: str | None) -> list[str]:
    """Numbered steps (Markdown with code blocks) to restore from ``snapshot``; ``volume`` is the
    live volume it was taken of, when known (its zone, its size)."""
    namespace = target.hub.split("/", 1)[-1]
    name = f"restore-{namespace}-{snapshot.started:%Y%m%d-%H%M}"
    region = target.region or "<region>"
    size = snapshot.size_gib or (volume.size_gib if volume else None) or "<size in GiB>"
    where = volume.where if volume and volume.where else "<the live volume's zone>"
    if target.kind is BackupKind.EFS:
        items = f'["/{namespace}/{home_folder(user)}"]' if user else '["/"]'
        return [
            "AWS Backup restores an EFS recovery point into the same file system, in a new folder "
            "`aws-backup-restore_<time>`, leaving the live files alone: "
            + _block(f"aws backup start-restore-job --region {region} \\\n"
                     f"  --recovery-point-arn {snapshot.id} --iam-role-arn {target.role_arn} \\\n"
                     f"  --metadata 'file-system-id={snapshot.volume},newFileSystem=false,"
                     f"ItemsToRestore={items}'"),
            "Wait for it: " + _block(f"aws backup describe-restore-job --region {region} "
                                     "--restore-job-id <the RestoreJobId printed above>"),
            "Copy back from the restore folder inside the hub's home share (from any pod that mounts it), "
            "then delete the restore folder.",
        ]
    if target.kind is BackupKind.EBS:
        make = (f"aws ec2 create-volume --region {region} --availability-zone {where} \\\n"
                f"  --snapshot-id {snapshot.id} --volume-type gp3 \\\n"
                f"  --tag-specifications 'ResourceType=volume,Tags=[{{Key=Name,Value={name}}}]'\n"
                f"aws ec2 wait volume-available --region {region} --volume-ids <the new VolumeId>")
        driver, handle = "ebs.csi.aws.com", "<the new VolumeId>"
    elif target.kind is BackupKind.GCP_DISK:
        make = (f"gcloud compute disks create {name} --project {target.project} --zone {where} \\\n"
                f"  --source-snapshot {snapshot.id}")
        driver, handle = "pd.csi.storage.gke.io", f"projects/{target.project}/zones/{where}/disks/{name}"
    else:
        make = (f"openstack volume create --snapshot {snapshot.id} --size {size} {name}\n"
                f"openstack volume show {name} -c status   # wait for: available")
        driver, handle = "cinder.csi.openstack.org", "<the new volume's id>"
    return [
        f"Make a new volume from snapshot {snapshot.id} beside the live one ({where}); nothing live changes: "
        + _block(make),
        "Give it to Kubernetes, read-only, in the hub's namespace (save as restore.yaml, fill in the volume, "
        "`kubectl apply -f restore.yaml`): "
        + _block(PV.format(name=name, namespace=namespace, size=size, driver=driver, handle=handle)),
        "Start a pod with it beside the hub's home share: "
        + _block(POD.format(name=name, namespace=namespace)),
        *_copy_steps(target, namespace, name, user),
    ]
