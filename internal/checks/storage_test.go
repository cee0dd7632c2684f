package checks

import (
	"testing"

	storagev1 "k8s.io/api/storage/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

func storageClass(name, provisioner string, params map[string]string) storagev1.StorageClass {
	return storagev1.StorageClass{ObjectMeta: objectMeta("", name), Provisioner: provisioner, Parameters: params}
}

func TestStorageClassUnencrypted(t *testing.T) {
	const id = "storage-class-unencrypted"
	scRef := func(name string) inventory.ObjectRef { return objRef("storage.k8s.io/v1", "StorageClass", "", name) }
	with := func(classes ...storagev1.StorageClass) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) { s.StorageClasses = classes }
	}
	runAreaCases(t, id, map[string]areaCase{
		"EBS CSI class without encrypted fails": {
			fill:       with(storageClass("gp3", "ebs.csi.aws.com", kvMap("type", "gp3"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: scRef("gp3"),
				Message: `provisioner "ebs.csi.aws.com" (AWS EBS): parameters.encrypted is not set, so its volumes are not encrypted at rest`}},
		},
		"EBS CSI class with encrypted true passes": {
			fill:       with(storageClass("gp3", "ebs.csi.aws.com", kvMap("type", "gp3", "encrypted", "true"))),
			wantJudged: 1,
		},
		"parameter keys and values are read case-insensitively": {
			fill:       with(storageClass("gp3", "ebs.csi.aws.com", kvMap("Encrypted", "True"))),
			wantJudged: 1,
		},
		"kmsKeyId without encrypted does not encrypt": {
			fill:       with(storageClass("gp3", "ebs.csi.aws.com", kvMap("kmsKeyId", "arn:aws:kms:eu-west-1:111122223333:key/k"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: scRef("gp3"),
				Message: `provisioner "ebs.csi.aws.com" (AWS EBS): parameters.encrypted is not set, so its volumes are not encrypted at rest; parameters.kmsKeyId is set but does not encrypt without encrypted: "true"`}},
		},
		"in-tree EBS class with encrypted false fails with the value": {
			fill:       with(storageClass("gp2", "kubernetes.io/aws-ebs", kvMap("type", "gp2", "encrypted", "false"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: scRef("gp2"),
				Message: `provisioner "kubernetes.io/aws-ebs" (AWS EBS): parameters.encrypted is "false", so its volumes are not encrypted at rest`}},
		},
		"Rook Ceph RBD class without encryption fails": {
			fill:       with(storageClass("ceph-block", "rook-ceph.rbd.csi.ceph.com", kvMap("pool", "replicapool"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: scRef("ceph-block"),
				Message: `provisioner "rook-ceph.rbd.csi.ceph.com" (Ceph RBD): parameters.encrypted is not set, so its volumes are not encrypted at rest`}},
		},
		"encrypted Longhorn class passes": {
			fill:       with(storageClass("longhorn-crypto", "driver.longhorn.io", kvMap("encrypted", "true", "numberOfReplicas", "3"))),
			wantJudged: 1,
		},
		"platform-encrypted and unknown provisioners are not judged": {
			fill: with(
				storageClass("managed-csi", "disk.csi.azure.com", nil),
				storageClass("standard-rwo", "pd.csi.storage.gke.io", nil),
				storageClass("local", "kubernetes.io/no-provisioner", nil),
				storageClass("nfs", "nfs.csi.k8s.io", nil),
			),
			wantJudged: 0,
		},
	})
}
