package verify_test

import (
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/verify"
)

// TestMultiRuntimeLayerRealWheels: lambdapack's layout for a layer serving
// python3.11 and python3.12 (one site-packages folder each, with each
// runtime's own MarkupSafe wheel) verifies clean for both runtimes; the other
// runtime's folder is one info finding; a binary there that only the other
// runtime's glibc can load is not held to this runtime's glibc; a binary for
// the wrong machine is still an error wherever it is; and the largest
// packages list MarkupSafe once, with both folders' bytes.
func TestMultiRuntimeLayerRealWheels(t *testing.T) {
	a := artifact{}
	a.install(t, "python/lib/python3.11/site-packages/", realWheel(t, msX86_311))
	a.install(t, "python/lib/python3.12/site-packages/", realWheel(t, msX86_312))
	// Needs GLIBC_2.34: loads on python3.12 (glibc 2.34), not python3.11 (2.26).
	a["python/lib/python3.12/site-packages/probe.so"] = gcc(t, "c", glibc234)
	var total int64
	for _, b := range a {
		total += int64(len(b))
	}

	for _, tc := range []struct{ runtime, other string }{
		{"python3.11", "python/lib/python3.12/site-packages/"},
		{"python3.12", "python/lib/python3.11/site-packages/"},
	} {
		rep := check(t, a, mustTarget(t, tc.runtime, "x86_64"), verify.Options{})
		if got := problems(rep); len(got) != 0 {
			t.Errorf("%s: want no problems, got:%s", tc.runtime, describe(got))
		}
		infos := 0
		for _, f := range rep.Findings {
			if f.Rule == verify.RuleLayout {
				infos++
				if f.Severity != verify.Info || f.File != tc.other || !strings.Contains(f.Message, "serves python3.1") {
					t.Errorf("%s: layout finding %+v, want one info on %s", tc.runtime, f, tc.other)
				}
			}
		}
		if infos != 1 {
			t.Errorf("%s: %d layout findings, want 1:%s", tc.runtime, infos, describe(rep.Findings))
		}
		seen := map[string]bool{}
		var sum int64
		for _, p := range rep.Packages {
			k := strings.ToLower(p.Name) + " " + p.Version
			if seen[k] {
				t.Errorf("%s: largest packages list %s twice: %+v", tc.runtime, k, rep.Packages)
			}
			seen[k] = true
			sum += p.Bytes
		}
		if !seen["markupsafe 2.1.5"] || sum != total {
			t.Errorf("%s: largest packages %+v (sum %d), want MarkupSafe once and all %d bytes", tc.runtime, rep.Packages, sum, total)
		}
	}

	// The same glibc 2.34 binary in python3.11's own folder is an error.
	own := artifact{}
	for p, b := range a {
		own[p] = b
	}
	own["python/lib/python3.11/site-packages/probe.so"] = own["python/lib/python3.12/site-packages/probe.so"]
	rep := check(t, own, mustTarget(t, "python3.11", "x86_64"), verify.Options{})
	if got := problems(rep); len(got) != 1 || got[0].Rule != verify.RuleGlibc || got[0].File != "python/lib/python3.11/site-packages/probe.so" {
		t.Errorf("glibc 2.34 binary in python3.11's own folder: got:%s", describe(got))
	}

	// An aarch64 binary in the other runtime's folder of an x86_64 layer is
	// wrong for the layer whichever runtime reads it.
	_, soARM := member(t, realWheel(t, msARM_311), ".so")
	arm := artifact{}
	for p, b := range a {
		arm[p] = b
	}
	arm["python/lib/python3.12/site-packages/markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so"] = soARM
	rep = check(t, arm, mustTarget(t, "python3.11", "x86_64"), verify.Options{})
	if got := problems(rep); len(got) != 1 || got[0].Rule != verify.RuleArch {
		t.Errorf("aarch64 binary in the other runtime's folder: want one arch error, got:%s", describe(got))
	}
}

// TestOtherSiteOnlyStaysAnError: without the target's own site-packages
// folder, another Python's is a layer built for the wrong runtime.
func TestOtherSiteOnlyStaysAnError(t *testing.T) {
	a := artifact{}
	a.install(t, "python/lib/python3.12/site-packages/", realWheel(t, msX86_312))
	rep := check(t, a, mustTarget(t, "python3.11", "x86_64"), verify.Options{})
	rules := map[string]bool{}
	for _, f := range problems(rep) {
		if f.Severity == verify.Error {
			rules[f.Rule] = true
		}
	}
	for _, r := range []string{verify.RuleLayout, verify.RuleWheelTag, verify.RulePythonABI} {
		if !rules[r] {
			t.Errorf("want a %s error, got:%s", r, describe(rep.Findings))
		}
	}
}
