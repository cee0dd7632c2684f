package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels every report carries, so reports can be selected by scan.
const (
	// LabelScan is the name of the ClusterScan that wrote a report.
	LabelScan = "posture.kubeposture.io/scan"
)

// Severity of a check: what an attacker gains, and how directly (docs/scoring.md).
// +kubebuilder:validation:Enum=critical;high;medium;low;info
type Severity string

// The severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// ObjectReference names the object a finding is about: the object the user
// wrote (a Deployment, not the ReplicaSets and Pods it made).
type ObjectReference struct {
	// apiVersion of the object.
	// +kubebuilder:validation:MaxLength=253
	APIVersion string `json:"apiVersion"`
	// kind of the object.
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// namespace of the object; empty for cluster-scoped objects.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the object.
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// uid of the object, where it came from a cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=36
	UID string `json:"uid,omitempty"`
}

// ReportCheck describes, once per report, a check that failed on objects the
// report is about: what findings refer to by checkID.
type ReportCheck struct {
	// id is the stable ID of the check (docs/checks.md).
	// +kubebuilder:validation:MaxLength=63
	ID string `json:"id"`
	// title of the check.
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title"`
	// severity of the check.
	Severity Severity `json:"severity"`
	// category of the check, such as workload, rbac or network.
	// +kubebuilder:validation:MaxLength=63
	Category string `json:"category"`
	// benchmarks are the benchmark controls the check implements, such as
	// "CIS 1.12 5.1.1" or "PSS baseline: privileged".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=128
	Benchmarks []string `json:"benchmarks,omitempty"`
	// remediation says how to fix a failure of the check.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Remediation string `json:"remediation,omitempty"`
	// failed is the number of objects the check failed on, including those
	// whose finding was left out of the report.
	Failed int32 `json:"failed"`
}

// Finding is a failure of one check on the object it is listed under.
type Finding struct {
	// checkID is the ID of the check that failed, described in the report's checks.
	// +kubebuilder:validation:MaxLength=63
	CheckID string `json:"checkID"`
	// severity of the check.
	Severity Severity `json:"severity"`
	// message says what was found, with the field path and offending value
	// as evidence. It never holds a secret value.
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message"`
}

// ObjectFindings are the findings about one object.
type ObjectFindings struct {
	// object the findings are about.
	Object ObjectReference `json:"object"`
	// findings about the object, most severe first.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	Findings []Finding `json:"findings"`
}

// ObjectFinding is one finding with the object it is about: a report's
// findings as one list (ScanReport.AllFindings). It is not part of the API.
// +kubebuilder:object:generate=false
type ObjectFinding struct {
	Object ObjectReference
	Finding
}

// allFindings lists objects' findings in report order.
func allFindings(objects []ObjectFindings) []ObjectFinding {
	var out []ObjectFinding
	for i := range objects {
		for _, f := range objects[i].Findings {
			out = append(out, ObjectFinding{Object: objects[i].Object, Finding: f})
		}
	}
	return out
}

// ReportSummary totals one report.
type ReportSummary struct {
	ScanSummary `json:",inline"`
	// findings is the number of failed findings, including any left out.
	Findings int32 `json:"findings"`
	// omitted is the number of findings left out of this report to keep it
	// under the size limit (the least severe are left out first).
	// +optional
	Omitted int32 `json:"omitted,omitempty"`
}

// ScanReport holds one ClusterScan's findings about the objects of one namespace.
// It is named after its ClusterScan and owned by it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=srep,categories=posture
// +kubebuilder:printcolumn:name="Scan",type=string,JSONPath=`.scan`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.summary.score`
// +kubebuilder:printcolumn:name="Critical",type=integer,JSONPath=`.summary.critical`
// +kubebuilder:printcolumn:name="High",type=integer,JSONPath=`.summary.high`
// +kubebuilder:printcolumn:name="Medium",type=integer,JSONPath=`.summary.medium`
// +kubebuilder:printcolumn:name="Low",type=integer,JSONPath=`.summary.low`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ScanReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// scan is the name of the ClusterScan that wrote this report.
	// +kubebuilder:validation:MaxLength=253
	Scan string `json:"scan"`
	// summary of the findings about this namespace.
	Summary ReportSummary `json:"summary"`
	// checks that failed on objects of this namespace, most severe first:
	// what findings refer to by checkID.
	// +optional
	// +kubebuilder:validation:MaxItems=512
	Checks []ReportCheck `json:"checks,omitempty"`
	// objects of this namespace with findings, the object with the most
	// severe finding first; at most maxFindingsPerReport findings in all.
	// +optional
	// +kubebuilder:validation:MaxItems=2000
	Objects []ObjectFindings `json:"objects,omitempty"`
}

// AllFindings returns the report's findings as one list, each with its
// object, in report order.
func (r *ScanReport) AllFindings() []ObjectFinding { return allFindings(r.Objects) }

// ScanReportList is a list of ScanReports.
// +kubebuilder:object:root=true
type ScanReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScanReport `json:"items"`
}

// ClusterScanReport holds one ClusterScan's findings about cluster-scoped
// objects (ClusterRoles, ClusterRoleBindings, Namespaces as such, the control
// plane) and the cluster-wide summary.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=csrep,categories=posture
// +kubebuilder:printcolumn:name="Scan",type=string,JSONPath=`.scan`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.summary.score`
// +kubebuilder:printcolumn:name="Grade",type=string,JSONPath=`.summary.grade`
// +kubebuilder:printcolumn:name="Critical",type=integer,JSONPath=`.summary.critical`
// +kubebuilder:printcolumn:name="High",type=integer,JSONPath=`.summary.high`
// +kubebuilder:printcolumn:name="Medium",type=integer,JSONPath=`.summary.medium`
// +kubebuilder:printcolumn:name="Low",type=integer,JSONPath=`.summary.low`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterScanReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// scan is the name of the ClusterScan that wrote this report.
	// +kubebuilder:validation:MaxLength=253
	Scan string `json:"scan"`
	// summary of the whole scan, every namespace included.
	Summary ReportSummary `json:"summary"`
	// namespaces is the number of namespaces in scope.
	// +optional
	Namespaces int32 `json:"namespaces,omitempty"`
	// checks that failed on cluster-scoped objects, most severe first: what
	// findings refer to by checkID.
	// +optional
	// +kubebuilder:validation:MaxItems=512
	Checks []ReportCheck `json:"checks,omitempty"`
	// objects (cluster-scoped) with findings, the object with the most severe
	// finding first; at most maxFindingsPerReport findings in all.
	// +optional
	// +kubebuilder:validation:MaxItems=2000
	Objects []ObjectFindings `json:"objects,omitempty"`
}

// AllFindings returns the report's findings as one list, each with its
// object, in report order.
func (r *ClusterScanReport) AllFindings() []ObjectFinding { return allFindings(r.Objects) }

// ClusterScanReportList is a list of ClusterScanReports.
// +kubebuilder:object:root=true
type ClusterScanReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterScanReport `json:"items"`
}
