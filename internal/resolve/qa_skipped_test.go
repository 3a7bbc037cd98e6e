package resolve

import (
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestQASkippedHonoursThePins: `lambdapack layer numpy==2.2.6 --runtime
// python3.12` notes "numpy 2.4.0: were yanked", and on python3.11 "passed
// over numpy 2.5.5, ...: require Python >=3.12". Versions the user's own pin
// (or a dependency's pin) rules out were never candidates: reporting them as
// passed over is noise. Only versions the requirements allowed but the target
// could not use are news.
func TestQASkippedHonoursThePins(t *testing.T) {
	ix := glibcIndex(t) // pydantic-core 2.27.0, 2.26.0 (glibc 2.28 on x86_64), 2.10.0
	ix.AddWheel(testutil.Wheel{Name: "pydantic-core", Version: "2.30.0", Tags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}}, testutil.Yanked("broken"))
	tg := mustTarget(t, "python3.11", "x86_64")
	res, err := resolveOn(t, ix, tg, Options{}, "pydantic-core==2.10.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("with pydantic-core==2.10.0 pinned, skipped = %+v; want none", res.Skipped)
	}
	// A dependency's pin counts the same.
	ix.AddWheel(testutil.Wheel{Name: "pydantic", Version: "2.0", RequiresDist: []string{"pydantic-core==2.10.0"}})
	res, err = resolveOn(t, ix, tg, Options{}, "pydantic")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Skipped {
		if s.Name == "pydantic-core" {
			t.Errorf("pydantic pins pydantic-core==2.10.0, yet skipped lists %s", s)
		}
	}
}

// TestQASkippedLeavesOutPrereleases: without --pre, pre-releases are never
// candidates, whatever else is wrong with them; yet `lambdapack lock
// onnxruntime --runtime python3.11` notes "passed over mpmath 1.4.0a4,
// 1.4.0a3: have only source distributions" and "numpy 2.3.1, 2.3.0,
// 2.3.0rc1: have no wheel ...". The skipped list (resolver.skipped) leaves a
// pre-release out only when being a pre-release is its first reason.
func TestQASkippedLeavesOutPrereleases(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "mpm", Version: "1.3.0"})
	ix.AddSdist(testutil.Sdist{Name: "mpm", Version: "1.4.0a4"})
	ix.AddWheel(testutil.Wheel{Name: "mpm", Version: "1.4.0rc1", Tags: []string{"cp311-cp311-manylinux_2_28_x86_64"}})
	res, err := resolveOn(t, ix, mustTarget(t, "python3.11", "x86_64"), Options{}, "mpm")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Packages[0].Version.String(); got != "1.3.0" {
		t.Fatalf("chose %s, want 1.3.0", got)
	}
	for _, s := range res.Skipped {
		t.Errorf("pre-releases are not candidates without --pre, yet skipped lists %s", s)
	}
}
