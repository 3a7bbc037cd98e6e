package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWorkloadsArePinnedAndImportable(t *testing.T) {
	ws, err := loadWorkloads(filepath.Join("..", "workloads"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"aws-sdk": true, "web-api": true, "data": true, "wide": true}
	for _, w := range ws {
		delete(want, w.Name)
		if len(w.Imports) == 0 {
			t.Errorf("%s: no # bench-import: line", w.Name)
		}
		b, err := os.ReadFile(w.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !strings.Contains(line, "==") {
				t.Errorf("%s: %q is not pinned with ==", w.Name, line)
			}
		}
		if w.Name == "wide" && w.Count < 50 {
			t.Errorf("wide has %d packages, want 50 or more", w.Count)
		}
	}
	for name := range want {
		t.Errorf("workload %s is missing", name)
	}
}

func TestPlatforms(t *testing.T) {
	t11, _ := parseTarget("python3.11/x86_64")
	t12, _ := parseTarget("python3.12/arm64")
	if got := t11.uvPlatform(); got != "x86_64-manylinux_2_17" {
		t.Errorf("uv platform for %s = %s", t11, got)
	}
	if got := t12.uvPlatform(); got != "aarch64-manylinux_2_34" {
		t.Errorf("uv platform for %s = %s", t12, got)
	}
	ps := t11.pipPlatforms()
	if ps[0] != "manylinux2014_x86_64" || ps[1] != "manylinux_2_26_x86_64" || ps[len(ps)-1] != "manylinux_2_17_x86_64" || len(ps) != 11 {
		t.Errorf("pip platforms for %s = %v", t11, ps)
	}
	if _, err := parseTarget("python3.12/sparc"); err == nil {
		t.Error("parseTarget accepted an unknown target")
	}
}

func TestZipVersionsCanonicalises(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, n := range []string{
		"python/PyYAML-6.0.2.dist-info/METADATA",
		"python/python_dateutil-2.9.0.post0.dist-info/RECORD",
		"python/Foo.Bar-01.0.dist-info/METADATA",
		"python/yaml/__init__.py",
		"bin/x",
	} {
		if _, err := zw.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := zipVersions(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pyyaml": "6.0.2", "python-dateutil": "2.9.0.post0", "foo-bar": "1.0"}
	if d := diffVersions("got", got, "want", want); d != "" {
		t.Errorf("zipVersions: %s", d)
	}
	if d := diffVersions("a", map[string]string{"x": "1"}, "b", map[string]string{"x": "2", "y": "1"}); d != "x a:1 b:2; y a:- b:1" {
		t.Errorf("diffVersions = %q", d)
	}
}

func TestRedactRemovesHosts(t *testing.T) {
	in := "ERROR: fetching https://index.example.test/simple/six/ failed; see http://files.example.test:8080/x"
	out := redact(in)
	if strings.Contains(out, "example.test") || !strings.Contains(out, "<host>/simple/six/") {
		t.Errorf("redact(%q) = %q", in, out)
	}
}

func TestMedianAndSummary(t *testing.T) {
	s := func(d ...time.Duration) time.Duration { return medianDur(d) }
	if got := s(3, 1, 2); got != 2 {
		t.Errorf("median of 3 = %v", got)
	}
	if got := s(4, 1, 2, 3); got != 2 { // (2+3)/2 in integer nanoseconds
		t.Errorf("median of 4 = %v", got)
	}
	st, ok := summarise([]result{{Wall: time.Second, MaxRSSKB: 2048, ZipSize: 5}, {Err: os.ErrNotExist}, {Wall: 3 * time.Second, MaxRSSKB: 1024, ZipSize: 5}})
	if !ok || st.N != 2 || st.Median != 2*time.Second || st.RSSMB != 2 {
		t.Errorf("summarise = %+v, %v", st, ok)
	}
}

func TestLockSetsAndOutputs(t *testing.T) {
	ws, err := loadWorkloads(filepath.Join("..", "locks"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Name)
	}
	if strings.Join(got, " ") != "great-expectations jupyter moto-all" {
		t.Errorf("lock sets %v", got)
	}
	p := filepath.Join(t.TempDir(), "requirements.txt")
	os.WriteFile(p, []byte("# via uv\nPyYAML==6.0.2 \\\n    --hash=sha256:00\nmoto[all]==5.1.0 ; python_version >= '3.9'\n    # via -r in\nzope.interface==7.0\n"), 0o644)
	vs, err := pinnedVersions(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVersions("got", vs, "want", map[string]string{"pyyaml": "6.0.2", "moto": "5.1.0", "zope-interface": "7.0"}); d != "" {
		t.Errorf("pinnedVersions: %s", d)
	}
}
