// Package output writes a scan's result for people and for machines: a
// table, JSON, SARIF 2.1.0, JUnit XML and openreports.io/v1alpha1 objects.
// Every format lists findings in one order (most severe first, then check
// ID, namespace, kind, name, message), so the same scan gives the same
// bytes; only Options.Now's timestamps vary. Finding messages are written
// as the checks wrote them (JSON does not HTML-escape them); only the table
// shows control characters escaped, so that a manifest cannot drive the
// terminal.
//
// # Formats
//
//   - table: for people. Findings grouped by severity, critical first: check
//     ID, title, object (Kind namespace/name) and file:line, then the message
//     indented; checks not evaluated with their reason; skipped objects;
//     input errors; a summary (objects scanned, checks evaluated and not,
//     findings per severity, score and grade, findings at or above the
//     severity threshold) and each framework's score and compliance. ANSI
//     colours only with Options.Color.
//   - json: the schema below.
//   - sarif: one run; a rule per check of the scan (shortDescription is the
//     title, fullDescription the description, help the remediation in text
//     and Markdown with the benchmark references, properties severity,
//     category, benchmarks, security-severity and tags), a result per
//     finding (level error for critical and high, warning for medium, note
//     for low) located at the manifest's file and line when known and always
//     at the object as a logical location (kind "resource",
//     fullyQualifiedName "namespace/Kind/name"). Checks not evaluated are
//     tool configuration notifications; input errors tool execution
//     notifications.
//   - junit: a testsuite per check (by ID): a failing testcase per finding,
//     named after the object, or one passing testcase when it found nothing;
//     a skipped testcase when it was not evaluated; input errors in a last
//     "input" suite.
//   - openreports: a YAML stream of a ClusterReport (cluster-scoped findings,
//     and a skip result per check not evaluated) and a Report per namespace
//     with findings, each named "kubeposture". Results: policy is the check
//     ID, category, severity, result (fail or skip), scored, timestamp,
//     resources (the object), message, and properties title, remediation,
//     benchmarks ("; "-separated), file and line (manifests) and
//     missingKinds (skip). At most 500 results per report, the most severe
//     kept; the summary counts them all and the
//     posture.kubeposture.io/omitted-results annotation the rest. The
//     ClusterReport carries the scan's score and grade as annotations.
//
// # JSON schema (schemaVersion "kubeposture.io/v1")
//
// Field names follow the operator's ScanReport and ClusterScan status. Within
// a schemaVersion, fields are only added, never removed or changed in
// meaning. Lists are always present ([] when empty); optional fields are
// left out when empty.
//
//	{
//	  "schemaVersion": "kubeposture.io/v1",
//	  "tool": {"name": "kubeposture", "version": "v0.3.0"},
//	  "target": "manifests",                 // or the cluster context; optional
//	  "generatedAt": "2026-03-14T15:09:26Z", // RFC 3339, UTC
//	  "summary": {
//	    "score": 57,                         // 0-100 (docs/scoring.md)
//	    "grade": "F",                        // A-F, "-" when nothing could be judged
//	    "findings": 6, "critical": 1, "high": 1, "medium": 2, "low": 2,
//	    "resourcesScanned": 5,               // objects read
//	    "checksEvaluated": 5, "checksNotEvaluated": 2,
//	    "severityThreshold": "high",         // only when a threshold was set
//	    "findingsAtOrAboveThreshold": 2      // only when a threshold was set
//	  },
//	  "frameworks": [{                       // in the order the scan evaluated them
//	    "name": "pss-baseline", "title": "Pod Security Standards: baseline",
//	    "score": 78, "compliance": 83,       // compliance in percent
//	    "passed": 1, "failed": 1, "manual": 0, "notEvaluated": 10,
//	    "controls": [{"id": "privileged", "title": "PSS baseline: privileged",
//	                  "result": "fail",      // pass, fail, manual or not-evaluated
//	                  "checks": ["pss-privileged"]}]  // in framework order
//	  }],
//	  "findings": [{                         // most severe first, then check ID, namespace, kind, name, message
//	    "checkID": "pss-privileged", "title": "Privileged containers",
//	    "severity": "critical",              // critical, high, medium or low
//	    "category": "workload",
//	    "result": "fail",
//	    "benchmarks": ["CIS 1.12 5.2.2", "PSS baseline: privileged"],
//	    "object": {"apiVersion": "apps/v1", "kind": "Deployment",
//	               "namespace": "shop",      // left out for cluster-scoped objects
//	               "name": "web",
//	               "uid": "..."},            // cluster scans only
//	    "source": {"file": "deploy/web.yaml", "line": 1},  // manifests only; line left out when unknown
//	    "message": "...",                    // exactly as the check wrote it
//	    "remediation": "..."
//	  }],
//	  "notEvaluated": [{                     // by check ID
//	    "checkID": "netpol-namespace-without-policy", "title": "...", "severity": "medium",
//	    "reason": "could not read NetworkPolicy.networking.k8s.io",
//	    "missingKinds": ["NetworkPolicy.networking.k8s.io"]
//	  }],
//	  "skipped": {"example.com/v1/Widget": 2}, // objects not scanned, by apiVersion/Kind
//	  "errors": ["broken.yaml:7: ..."]       // input errors, with file:line
//	}
package output
