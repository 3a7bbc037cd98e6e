package app_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
)

func TestTargetsTable(t *testing.T) {
	var out bytes.Buffer
	if err := app.Targets(app.TargetsOptions{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "RUNTIME") {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, want := range []string{
		"python3.12  3.12    Amazon Linux 2023  2.34   x86_64, arm64  2028-10-31",
		"python3.11  3.11    Amazon Linux 2     2.26   x86_64, arm64  2027-06-30",
		"python3.10  3.10    Amazon Linux 2     2.26   x86_64, arm64  2026-10-31 (passed)",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTargetsTagsCustom(t *testing.T) {
	var out bytes.Buffer
	err := app.Targets(app.TargetsOptions{Tags: true, JSON: true, Python: "3.11", Glibc: "2.36", Arch: "aarch64"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var ts []string
	if err := json.Unmarshal(out.Bytes(), &ts); err != nil {
		t.Fatal(err)
	}
	if ts[0] != "cp311-cp311-manylinux_2_36_aarch64" || ts[len(ts)-1] != "py30-none-any" {
		t.Errorf("first %s last %s", ts[0], ts[len(ts)-1])
	}
}

func TestTargetsErrors(t *testing.T) {
	for _, tc := range []struct {
		o    app.TargetsOptions
		want string
	}{
		{app.TargetsOptions{Tags: true}, "say which target"},
		{app.TargetsOptions{Tags: true, Runtime: "3.12"}, "did you mean python3.12?"},
		{app.TargetsOptions{Tags: true, Runtime: "python3.8"}, "deprecated and not supported"},
		{app.TargetsOptions{Tags: true, Runtime: "python3.12", Python: "3.12", Glibc: "2.34"}, "not both"},
		{app.TargetsOptions{Tags: true, Runtime: "python3.12", Arch: "ppc64le"}, "unknown architecture"},
		{app.TargetsOptions{Runtime: "python3.12"}, "add --tags"},
	} {
		err := app.Targets(tc.o, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}
