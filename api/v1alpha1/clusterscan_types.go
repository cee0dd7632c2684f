package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScanRequestedAtAnnotation triggers a scan now whenever its value changes.
const ScanRequestedAtAnnotation = "posture.kubeposture.io/scan-requested-at"

// Framework names a benchmark that a scan evaluates.
// +kubebuilder:validation:Enum=cis-1.12;nsa-cisa;pss-baseline;pss-restricted
type Framework string

// The frameworks a scan can evaluate.
const (
	FrameworkCIS           Framework = "cis-1.12"
	FrameworkNSACISA       Framework = "nsa-cisa"
	FrameworkPSSBaseline   Framework = "pss-baseline"
	FrameworkPSSRestricted Framework = "pss-restricted"
)

// AllFrameworks lists every framework, in the order they are reported.
var AllFrameworks = []Framework{FrameworkCIS, FrameworkNSACISA, FrameworkPSSBaseline, FrameworkPSSRestricted}

// ClusterScanSpec says what to scan, how, and when.
// +kubebuilder:validation:XValidation:rule="!has(self.includeNamespaces) || !has(self.excludeNamespaces) || self.includeNamespaces.all(n, !(n in self.excludeNamespaces))",message="a namespace glob may not be both included and excluded"
type ClusterScanSpec struct {
	// schedule is a cron expression (five fields, or a descriptor such as
	// @daily, @every 6h) in UTC for periodic scans. Empty: scan only on
	// creation, on spec change and on the scan-requested-at annotation.
	// +optional
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="self == '' || self.startsWith('@') || self.split(' ').filter(f, f != '').size() == 5",message="schedule must have five fields (minute hour day-of-month month day-of-week) or be a descriptor such as @daily"
	Schedule string `json:"schedule,omitempty"`

	// suspend stops scheduled and triggered scans while true. Reports stay.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// frameworks to evaluate. Default: all of them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	Frameworks []Framework `json:"frameworks,omitempty"`

	// podSecurityVersion is the Pod Security Standards version the pods are
	// judged at: "latest" or "v1.N". Default: latest.
	// +optional
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^(latest|v1\.(0|[1-9][0-9]?))$`
	PodSecurityVersion string `json:"podSecurityVersion,omitempty"`

	// namespaceSelector limits the scan to namespaces whose labels match.
	// Cluster-scoped objects are always scanned. Default: every namespace.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="namespaceSelector.matchExpressions[].operator must be In, NotIn, Exists or DoesNotExist"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['Exists', 'DoesNotExist'] ? (!has(e.values) || size(e.values) == 0) : (has(e.values) && size(e.values) > 0))",message="namespaceSelector.matchExpressions[].values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist"
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// includeNamespaces limits the scan to namespaces whose names match one of
	// these globs (path.Match syntax: *, ?, [a-z], [^a-z]). Default: every namespace.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9*?\[\]^!-]+$`
	IncludeNamespaces []string `json:"includeNamespaces,omitempty"`

	// excludeNamespaces removes namespaces whose names match one of these globs.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9*?\[\]^!-]+$`
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`

	// trustedRegistries are the image registry prefixes (such as
	// "registry.example.com/" or "ghcr.io/acme/") that images may come from,
	// without a scheme.
	// Empty: the registry check is not evaluated.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9._-]*(:[0-9]+)?(/[a-zA-Z0-9._/-]*)?$`
	TrustedRegistries []string `json:"trustedRegistries,omitempty"`

	// maxFindingsPerReport caps the findings kept in one report object; the
	// most severe are kept and the report says how many were left out.
	// +optional
	// +kubebuilder:default=500
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2000
	MaxFindingsPerReport int32 `json:"maxFindingsPerReport,omitempty"`

	// openReports also writes the findings as openreports.io/v1alpha1 objects
	// (a Report per namespace with findings and a ClusterReport), which Policy
	// Reporter and other OpenReports consumers read. They are bounded like the
	// scan's own reports. Default: not written. See docs/openreports.md.
	// +optional
	OpenReports *OpenReportsSpec `json:"openReports,omitempty"`
}

// OpenReportsSpec says whether a scan writes OpenReports objects.
type OpenReportsSpec struct {
	// enabled writes the OpenReports objects on every scan. Turning it off
	// deletes those this scan wrote, at its next scan. The openreports.io CRDs
	// must be installed; if they are not, the scan still succeeds and the
	// OpenReports condition says so.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
}

// OpenReportsEnabled says whether the scan writes OpenReports objects.
func (s *ClusterScanSpec) OpenReportsEnabled() bool {
	return s.OpenReports != nil && s.OpenReports.Enabled
}

// Condition types and reasons of a ClusterScan, following kstatus.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"

	ReasonScanSucceeded  = "ScanSucceeded"
	ReasonScanIncomplete = "ScanIncomplete"
	ReasonScanning       = "Scanning"
	ReasonScanFailed     = "ScanFailed"
	ReasonInvalidSpec    = "InvalidSpec"
	ReasonSuspended      = "Suspended"
	ReasonNotYetScanned  = "NotYetScanned"
	ReasonProgressing    = "Progressing"
)

// The OpenReports condition is set while spec.openReports.enabled: True when
// the scan's OpenReports objects are up to date, False when they could not be
// written because the openreports.io CRDs are not installed or the manager may
// not write them. Either way the scan itself succeeds (Ready). It is removed
// when OpenReports are turned off.
const (
	ConditionOpenReports = "OpenReports"

	ReasonOpenReportsWritten      = "OpenReportsWritten"
	ReasonOpenReportsNotInstalled = "OpenReportsNotInstalled"
	ReasonOpenReportsForbidden    = "OpenReportsForbidden"
)

// ClusterScanStatus is what the last scans found.
type ClusterScanStatus struct {
	// conditions are Ready, Reconciling and Stalled (kstatus), and OpenReports
	// while spec.openReports.enabled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec that the last
	// successful scan used.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastScanTime is when the last scan, successful or not, started.
	// +optional
	LastScanTime *metav1.Time `json:"lastScanTime,omitempty"`

	// lastSuccessfulScanTime is when the last successful scan started.
	// +optional
	LastSuccessfulScanTime *metav1.Time `json:"lastSuccessfulScanTime,omitempty"`

	// nextScanTime is when the schedule runs the next scan.
	// +optional
	NextScanTime *metav1.Time `json:"nextScanTime,omitempty"`

	// lastScanDuration is how long the last scan took.
	// +optional
	LastScanDuration *metav1.Duration `json:"lastScanDuration,omitempty"`

	// lastScanRequest is the value of the scan-requested-at annotation that
	// the last scan answered.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastScanRequest string `json:"lastScanRequest,omitempty"`

	// summary of the last successful scan.
	// +optional
	Summary *ScanSummary `json:"summary,omitempty"`

	// frameworks holds the score of each framework evaluated.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=4
	Frameworks []FrameworkResult `json:"frameworks,omitempty"`

	// coverage says which kinds the scan read and which it could not.
	// +optional
	Coverage *Coverage `json:"coverage,omitempty"`
}

// ScanSummary totals one scan, or one report.
type ScanSummary struct {
	// score is 0 (worst) to 100 (no findings); see docs/scoring.md.
	Score int32 `json:"score"`
	// grade is A to F, from the score.
	Grade string `json:"grade"`
	// critical is the number of failed findings of severity critical.
	Critical int32 `json:"critical"`
	// high is the number of failed findings of severity high.
	High int32 `json:"high"`
	// medium is the number of failed findings of severity medium.
	Medium int32 `json:"medium"`
	// low is the number of failed findings of severity low.
	Low int32 `json:"low"`
	// resourcesScanned is the number of objects the checks judged.
	// +optional
	ResourcesScanned int32 `json:"resourcesScanned,omitempty"`
	// checksEvaluated is the number of checks that ran with all their input.
	// +optional
	ChecksEvaluated int32 `json:"checksEvaluated,omitempty"`
	// checksNotEvaluated is the number of checks that could not run because
	// an input kind could not be read.
	// +optional
	ChecksNotEvaluated int32 `json:"checksNotEvaluated,omitempty"`
}

// FrameworkResult is the result of one framework.
type FrameworkResult struct {
	// name of the framework.
	Name Framework `json:"name"`
	// score is 0 to 100 for this framework alone.
	Score int32 `json:"score"`
	// compliance is the percentage of evaluated controls' resources that pass.
	Compliance int32 `json:"compliance"`
	// passed is the number of controls with no failed resource.
	Passed int32 `json:"passed"`
	// failed is the number of controls with at least one failed resource.
	Failed int32 `json:"failed"`
	// manual is the number of controls no automated check can judge.
	Manual int32 `json:"manual"`
	// notEvaluated is the number of controls whose input could not be read.
	NotEvaluated int32 `json:"notEvaluated"`
}

// Coverage says what a scan could see.
type Coverage struct {
	// read lists the kinds the scan read, as Kind.group (core kinds have no group).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	Read []string `json:"read,omitempty"`
	// missing lists the kinds the scan could not read, and why.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +kubebuilder:validation:MaxItems=64
	Missing []MissingKind `json:"missing,omitempty"`
}

// MissingKind is a kind a scan could not read.
type MissingKind struct {
	// kind is the kind, as Kind.group.
	Kind string `json:"kind"`
	// reason is Forbidden, NotFound (the API is not served) or Error.
	Reason string `json:"reason"`
	// message is the error, without object data.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// ClusterScan says what to scan, how and when. Its findings are written to
// ScanReports (per namespace) and a ClusterScanReport (cluster-scoped objects).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cscan,categories=posture
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.status.summary.score`
// +kubebuilder:printcolumn:name="Grade",type=string,JSONPath=`.status.summary.grade`
// +kubebuilder:printcolumn:name="Critical",type=integer,JSONPath=`.status.summary.critical`
// +kubebuilder:printcolumn:name="High",type=integer,JSONPath=`.status.summary.high`
// +kubebuilder:printcolumn:name="Last Scan",type=date,JSONPath=`.status.lastScanTime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is the value of the posture.kubeposture.io/scan label on the scan's reports"
type ClusterScan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what to scan, how and when.
	// +optional
	Spec ClusterScanSpec `json:"spec,omitempty"`
	// status is what the scans found.
	// +optional
	Status ClusterScanStatus `json:"status,omitempty"`
}

// ClusterScanList is a list of ClusterScans.
// +kubebuilder:object:root=true
type ClusterScanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterScan `json:"items"`
}
