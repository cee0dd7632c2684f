package checks

import (
	"cmp"
	"slices"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// A scan is what the checks of one Run share, so that what several of them
// need is worked out once.
//
// Most of it is facts about the pod template being judged: the results of
// the upstream Pod Security checks (the pss-* checks report them one by
// one, the namespace checks judge namespaces by them), its images parsed,
// whether it runs on Windows. Run judges templates one at a time, every
// check in turn, so the facts are those of the template being judged: the
// first check that asks computes a fact, the others read it, and the next
// template makes them stale. A fact depends on the template alone, so who
// asks first changes no result. The rest is worked out from the whole
// snapshot, once a scan: the namespaces running workloads, the RBAC
// bindings resolved.
type scan struct {
	// w is the template the facts are about; gen counts the templates
	// seen, and a fact computed for gen g is current while gen is g.
	w   *inventory.Workload
	gen uint64

	// pss holds, for each upstream check version (pssTable's slots), its
	// result on w when pssGen says it is current.
	pss    []policy.CheckResult
	pssGen []uint64

	images    []parsedImage
	imagesGen uint64

	windows    bool
	windowsGen uint64

	// namespaces caches workloadNamespaces, and bindings buildRBACBindings.
	namespaces *workloadNamespaceCount
	bindings   []rbacBinding

	// atEnd are run, in order, once every template has been judged.
	atEnd []func()

	// readAhead sums what readAhead returns, so that its reads are kept.
	readAhead uintptr
}

// newScan returns the shared state of a Run, with nothing worked out yet.
func newScan() *scan {
	return &scan{
		pss:    make([]policy.CheckResult, len(pssTable.fns)),
		pssGen: make([]uint64, len(pssTable.fns)),
	}
}

// at makes w the template the facts are about.
func (sc *scan) at(w *inventory.Workload) {
	if sc.w != w {
		sc.w = w
		sc.gen++
	}
}

// podSecurity returns the result on w of the upstream check version in
// slot: pssTable.fns[slot](w.Meta, w.Spec), computed once per template.
func (sc *scan) podSecurity(w *inventory.Workload, slot int) *policy.CheckResult {
	sc.at(w)
	if sc.pssGen[slot] != sc.gen {
		sc.pss[slot] = pssTable.fns[slot](w.Meta, w.Spec)
		sc.pssGen[slot] = sc.gen
	}
	return &sc.pss[slot]
}

// allowed reports whether every check version in slots allows w.
func (sc *scan) allowed(w *inventory.Workload, slots []int) bool {
	for _, slot := range slots {
		if !sc.podSecurity(w, slot).Allowed {
			return false
		}
	}
	return true
}

// parsedImage is an image a pod pulls, and its reference parsed.
type parsedImage struct {
	use imageUse
	ref imageRef
}

// imagesOf returns what imagesOf yields for w, parsed, in that order. The
// slice is reused from template to template: never keep it.
func (sc *scan) imagesOf(w *inventory.Workload) []parsedImage {
	sc.at(w)
	if sc.imagesGen != sc.gen {
		sc.images = sc.images[:0]
		imagesOf(w.Spec, func(u imageUse) { sc.images = append(sc.images, parsedImage{use: u, ref: parseImage(u.image)}) })
		sc.imagesGen = sc.gen
	}
	return sc.images
}

// notOnWindows is the skip of checks that do not judge Windows pods, where
// capabilities and readOnlyRootFilesystem do not exist: isWindowsPod of w.
func (sc *scan) notOnWindows(w *inventory.Workload) bool {
	sc.at(w)
	if sc.windowsGen != sc.gen {
		sc.windows = isWindowsPod(w.Spec)
		sc.windowsGen = sc.gen
	}
	return sc.windows
}

// workloadNamespaceCount is what workloadNamespaces returns.
type workloadNamespaceCount struct {
	order []string
	count map[string]int
}

// workloadNamespaces is workloadNamespaces(s), computed once a scan. Its
// results are shared: never change them.
func (sc *scan) workloadNamespaces(s *inventory.Snapshot) (order []string, count map[string]int) {
	if sc.namespaces == nil {
		order, count := workloadNamespaces(s)
		sc.namespaces = &workloadNamespaceCount{order: order, count: count}
	}
	return sc.namespaces.order, sc.namespaces.count
}

// rbacBindings is buildRBACBindings(s), computed once a scan for every RBAC
// check. The bindings are shared: never change them.
func (sc *scan) rbacBindings(s *inventory.Snapshot) []rbacBinding {
	if sc.bindings == nil {
		sc.bindings = buildRBACBindings(s)
	}
	return sc.bindings
}

// podSecurityTable numbers every version of every upstream default check,
// so that a scan can hold their results on a template in a slice.
type podSecurityTable struct {
	checks []policy.Check
	// first holds, per check, the slot of its first version: version i of
	// checks[c] is slot first[c]+i.
	first []int
	// fns are the check functions, by slot.
	fns []policy.CheckPodFn
	// maxVersion is the newest minimum version of any check: the evaluator
	// judges any later version as this one.
	maxVersion api.Version
	// levels holds evaluatorSlots of both levels at every version up to
	// maxVersion.
	levels map[api.LevelVersion][]int
}

// pssTable holds policy.DefaultChecks(), in its order.
var pssTable = newPodSecurityTable(policy.DefaultChecks())

func newPodSecurityTable(checks []policy.Check) *podSecurityTable {
	t := &podSecurityTable{checks: checks}
	for _, c := range checks {
		t.first = append(t.first, len(t.fns))
		for _, v := range c.Versions {
			t.fns = append(t.fns, v.CheckPod)
		}
		if last := c.Versions[len(c.Versions)-1].MinimumVersion; t.maxVersion.Older(last) {
			t.maxVersion = last
		}
	}
	t.levels = map[api.LevelVersion][]int{}
	for minor := 0; minor <= t.maxVersion.Minor(); minor++ {
		for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
			lv := api.LevelVersion{Level: level, Version: api.MajorMinorVersion(1, minor)}
			t.levels[lv] = t.evaluatorSlots(lv)
		}
	}
	return t
}

// levelSlots is evaluatorSlots, looked up rather than worked out for the
// levels and versions namespaces enforce.
func (t *podSecurityTable) levelSlots(lv api.LevelVersion) []int {
	if t.maxVersion.Older(lv.Version) {
		lv.Version = t.maxVersion
	}
	if slots, ok := t.levels[lv]; ok {
		return slots
	}
	return t.evaluatorSlots(lv)
}

// slotAt returns the slot of the version of checks[c] that judges pods at
// version v, as pssCheckAt resolves it, or -1 when v predates the check.
func (t *podSecurityTable) slotAt(c int, v api.Version) int {
	i := pssVersionAt(t.checks[c], v)
	if i < 0 {
		return -1
	}
	return t.first[c] + i
}

// evaluatorSlots returns the slots that
// policy.NewEvaluator(policy.DefaultChecks(), nil).EvaluatePod(lv, ...)
// runs, in the order it runs them, so that their results are its results.
// Like the evaluator, it judges nothing at privileged; at baseline, every
// baseline check; at any other level, the restricted checks and the
// baseline checks no restricted one overrides at that version; a version
// after every check's newest as that newest; baseline checks first, each
// level's checks ordered by ID.
func (t *podSecurityTable) evaluatorSlots(lv api.LevelVersion) []int {
	if lv.Level == api.LevelPrivileged {
		return nil
	}
	v := lv.Version
	if t.maxVersion.Older(v) {
		v = t.maxVersion
	}
	restricted := lv.Level != api.LevelBaseline
	overridden := map[policy.CheckID]bool{}
	if restricted {
		for _, check := range t.checks {
			if i := pssVersionAt(check, v); i >= 0 && check.Level == api.LevelRestricted {
				for _, id := range check.Versions[i].OverrideCheckIDs {
					overridden[id] = true
				}
			}
		}
	}
	type run struct {
		level api.Level
		id    policy.CheckID
		slot  int
	}
	var runs []run
	for c, check := range t.checks {
		slot := t.slotAt(c, v)
		switch {
		case slot < 0:
		case check.Level == api.LevelBaseline && !overridden[check.ID],
			check.Level == api.LevelRestricted && restricted:
			runs = append(runs, run{check.Level, check.ID, slot})
		}
	}
	slices.SortFunc(runs, func(a, b run) int {
		if a.level != b.level {
			if a.level == api.LevelBaseline {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.id, b.id)
	})
	slots := make([]int, len(runs))
	for i, r := range runs {
		slots[i] = r.slot
	}
	return slots
}
