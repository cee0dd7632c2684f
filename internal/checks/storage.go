package checks

import (
	"fmt"
	"strings"

	storagev1 "k8s.io/api/storage/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// encryptingProvisioner is a provisioner whose volumes are encrypted at rest
// only when a StorageClass parameter asks for it.
type encryptingProvisioner struct {
	name string
	// matches reports whether a StorageClass's provisioner is this one.
	matches func(provisioner string) bool
	// param is the parameter that must be "true"; the drivers read parameter
	// keys case-insensitively.
	param string
	// related are parameters worth naming when set without param (they do not encrypt on their own).
	related []string
}

func exactly(name string) func(string) bool { return func(p string) bool { return p == name } }

// encryptingProvisioners are the provisioners judged. Not judged, because the
// platform always encrypts their volumes at rest: disk.csi.azure.com and
// kubernetes.io/azure-disk (Azure Storage service-side encryption),
// pd.csi.storage.gke.io and kubernetes.io/gce-pd (Google default encryption).
// Not judged, because encryption is chosen outside the StorageClass
// parameters or not offered: Cinder (volume type), EFS (file system), vSphere
// and the rest.
var encryptingProvisioners = []encryptingProvisioner{
	// AWS EBS CSI driver and the in-tree plugin it replaced (migrated to the CSI
	// driver with the same parameters). kmsKeyId only picks the key: without
	// encrypted=true the driver creates an unencrypted volume (unless the AWS
	// account enables EBS encryption by default, which the API cannot show).
	{name: "AWS EBS", matches: exactly("ebs.csi.aws.com"), param: "encrypted", related: []string{"kmsKeyId"}},
	{name: "AWS EBS", matches: exactly("kubernetes.io/aws-ebs"), param: "encrypted", related: []string{"kmsKeyId"}},
	// Ceph RBD CSI (LUKS on the node): rbd.csi.ceph.com, or <namespace>.rbd.csi.ceph.com as Rook and ODF name it.
	{name: "Ceph RBD", matches: func(p string) bool { return p == "rbd.csi.ceph.com" || strings.HasSuffix(p, ".rbd.csi.ceph.com") },
		param: "encrypted", related: []string{"encryptionKMSID"}},
	// Longhorn (dm-crypt, key from a Secret named in the class).
	{name: "Longhorn", matches: exactly("driver.longhorn.io"), param: "encrypted"},
	// Alibaba Cloud disk CSI (KMS).
	{name: "Alibaba Cloud disk", matches: exactly("diskplugin.csi.alibabacloud.com"), param: "encrypted", related: []string{"kmsKeyId"}},
}

// parameter looks a StorageClass parameter up case-insensitively and returns its key as written.
func parameter(params map[string]string, name string) (key, value string, ok bool) {
	for k, v := range params {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", "", false
}

func storageChecks() []*Check {
	return []*Check{{
		ID:       "storage-class-unencrypted",
		Title:    "StorageClass provisions unencrypted volumes",
		Severity: SeverityMedium,
		Category: CategoryStorage,
		Description: "The NSA/CISA guidance asks that data be encrypted at rest. Some provisioners encrypt a volume only when " +
			"the StorageClass asks for it; volumes they provision otherwise hold application data, and often secrets copied " +
			"there, in clear on the disk, its snapshots and backups. Judged: AWS EBS (ebs.csi.aws.com and kubernetes.io/aws-ebs; " +
			"parameters.encrypted must be \"true\", kmsKeyId alone does not encrypt), Ceph RBD CSI (rbd.csi.ceph.com and " +
			"<namespace>.rbd.csi.ceph.com), Longhorn (driver.longhorn.io) and Alibaba Cloud disks " +
			"(diskplugin.csi.alibabacloud.com), each with parameters.encrypted (keys are read case-insensitively, as the " +
			"drivers do). Not judged: Azure Disk and GCE Persistent Disk, which the platform always encrypts, and provisioners " +
			"without an encryption parameter. Encryption the API cannot see (AWS account-level EBS encryption by default, " +
			"Ceph OSD encryption) is not taken into account: except the class if it applies.",
		Remediation: "Create a replacement StorageClass with parameters.encrypted: \"true\" (and the key parameter your provider " +
			"uses, such as kmsKeyId for EBS) and move new claims to it: StorageClass parameters are immutable, and existing " +
			"volumes must be migrated (for example through an encrypted snapshot).",
		Evidence: "The provisioner and the value of parameters.encrypted (absent, or its value), and any key parameter set without it.",
		Needs:    []inventory.Kind{inventory.KindStorageClass},
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			for i := range s.StorageClasses {
				sc := &s.StorageClasses[i]
				p := provisionerOf(sc)
				if p == nil {
					continue
				}
				ref := inventory.Ref("storage.k8s.io/v1", "StorageClass", &sc.ObjectMeta)
				e.Judge(ref)
				key, value, ok := parameter(sc.Parameters, p.param)
				if ok && strings.EqualFold(value, "true") {
					continue
				}
				state := fmt.Sprintf("parameters.%s is not set", p.param)
				if ok {
					state = fmt.Sprintf("parameters.%s is %q", key, value)
				}
				var also string
				for _, r := range p.related {
					if k, _, set := parameter(sc.Parameters, r); set {
						also += fmt.Sprintf("; parameters.%s is set but does not encrypt without %s: \"true\"", k, p.param)
					}
				}
				e.Fail(ref, "provisioner %q (%s): %s, so its volumes are not encrypted at rest%s", sc.Provisioner, p.name, state, also)
			}
		},
	}}
}

func provisionerOf(sc *storagev1.StorageClass) *encryptingProvisioner {
	for i := range encryptingProvisioners {
		if encryptingProvisioners[i].matches(sc.Provisioner) {
			return &encryptingProvisioners[i]
		}
	}
	return nil
}
