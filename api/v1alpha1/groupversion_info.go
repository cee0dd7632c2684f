// Package v1alpha1 contains the kubeposture API: ClusterScan, ScanReport and
// ClusterScanReport in the posture.kubeposture.io group.
// +kubebuilder:object:generate=true
// +groupName=posture.kubeposture.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "posture.kubeposture.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&ClusterScan{}, &ClusterScanList{},
		&ScanReport{}, &ScanReportList{},
		&ClusterScanReport{}, &ClusterScanReportList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
