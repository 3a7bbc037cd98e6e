package verify_test

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// gccExecutable compiles a C program for this machine (x86_64) with gcc's
// defaults: a position-independent executable (ET_DYN with PT_INTERP).
func gccExecutable(t *testing.T) []byte {
	t.Helper()
	b := testutil.CompileC(t, "int main(void) { return 0; }\n", "-pie", "-fPIE", "-O2")
	info, err := verify.ReadELF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != elf.ET_DYN || !info.Executable() {
		t.Fatalf("gcc -pie made type %v, Executable %v: want a position-independent executable", info.Type, info.Executable())
	}
	return b
}

// archFindings returns the arch findings by file.
func archFindings(rep *verify.Report) map[string]verify.Finding {
	return findingsOf(rep, verify.RuleArch)
}

// A package that ships an executable per architecture and picks one at run
// time (aws-sam-cli's samcli/local/rapid/aws-lambda-rie-x86_64 and
// aws-lambda-rie-arm64) verifies for either target: the other machine's
// executable is a warning naming its twin. Alone, it stays an error, as
// does a foreign shared object or a twin that is not an executable for
// the target.
func TestForeignExecutableWithTwin(t *testing.T) {
	x86, arm := testutil.GoExecutable(t, "amd64"), testutil.GoExecutable(t, "arm64")
	const rapid = "python/samcli/local/rapid/"
	sam := artifact{
		"python/samcli/__init__.py":           []byte("\n"),
		rapid + "__init__.py":                 []byte("\n"),
		rapid + "aws-lambda-rie-x86_64":       x86,
		rapid + "aws-lambda-rie-arm64":        arm,
		"python/tools/bin/helper_aarch64":     arm,
		"python/tools/bin/helper_amd64":       x86,
		"python/tools/bin/tool.x86-64.linux":  x86,
		"python/tools/bin/tool.arm64.linux":   arm,
		"python/tools/__init__.py":            []byte("\n"),
		"python/tools/bin/lone-arm64-only":    []byte{}, // not a binary: ignored
		"python/tools/bin/README-aarch64.txt": []byte("text\n"),
	}
	for _, tc := range []struct {
		arch, foreign, twin string
		others              []string
	}{
		{"x86_64", rapid + "aws-lambda-rie-arm64", "aws-lambda-rie-x86_64", []string{"python/tools/bin/helper_aarch64", "python/tools/bin/tool.arm64.linux"}},
		{"arm64", rapid + "aws-lambda-rie-x86_64", "aws-lambda-rie-arm64", []string{"python/tools/bin/helper_amd64", "python/tools/bin/tool.x86-64.linux"}},
	} {
		for _, src := range []string{"entries", "zip"} {
			var rep *verify.Report
			tg := mustTarget(t, "python3.12", tc.arch)
			if src == "zip" {
				var err error
				rep, err = verify.Check(t.Context(), verify.PathSource(sam.zip(t)), tg, verify.Options{})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				rep = check(t, sam, tg, verify.Options{})
			}
			if rep.Errors != 0 {
				t.Errorf("%s (%s): %d errors:%s", tc.arch, src, rep.Errors, describe(rep.Findings))
			}
			got := archFindings(rep)
			if len(got) != 3 {
				t.Errorf("%s (%s): want 3 arch warnings, got%s", tc.arch, src, describe(rep.Findings))
			}
			for _, p := range append([]string{tc.foreign}, tc.others...) {
				f, ok := got[p]
				if !ok || f.Severity != verify.Warning || !strings.Contains(f.Message, "cannot run on") {
					t.Errorf("%s (%s): %s: want an arch warning saying it cannot run here, got %+v", tc.arch, src, p, f)
				}
			}
			if f := got[tc.foreign]; !strings.Contains(f.Message, tc.twin) || !strings.Contains(f.Fix, "--strip-pattern") {
				t.Errorf("%s (%s): the warning should name the twin %s and how to leave the file out: %+v", tc.arch, src, tc.twin, f)
			}
			if rep.Failed(false) || !rep.Failed(true) {
				t.Errorf("%s (%s): Failed(false)=%v Failed(true)=%v, want false, true", tc.arch, src, rep.Failed(false), rep.Failed(true))
			}
		}
	}
}

// A position-independent executable (gcc's default: ET_DYN with a program
// interpreter) counts as an executable; a shared object with the same
// kind of name does not.
func TestForeignPIEExecutableWithTwin(t *testing.T) {
	pie, arm := gccExecutable(t), testutil.GoExecutable(t, "arm64")
	a := artifact{
		"python/pkg/__init__.py":  []byte("\n"),
		"python/pkg/tool-x86_64":  pie,
		"python/pkg/tool-aarch64": arm,
	}
	rep := check(t, a, mustTarget(t, "python3.12", "arm64"), verify.Options{})
	if f := archFindings(rep)["python/pkg/tool-x86_64"]; f.Severity != verify.Warning || rep.Errors != 0 {
		t.Errorf("gcc's x86_64 PIE beside an arm64 twin: want one arch warning, got%s", describe(rep.Findings))
	}

	a["python/pkg/tool-x86_64"] = gcc(t, "c", "int lp(void) { return 1; }\n")
	rep = check(t, a, mustTarget(t, "python3.12", "arm64"), verify.Options{})
	if f := archFindings(rep)["python/pkg/tool-x86_64"]; f.Severity != verify.Error {
		t.Errorf("an x86_64 shared object (not an executable) beside an arm64 executable: want an arch error, got%s", describe(rep.Findings))
	}
}

// Without a twin for the target, a foreign executable stays an error.
func TestForeignExecutableWithoutTwinIsAnError(t *testing.T) {
	x86, arm := testutil.GoExecutable(t, "amd64"), testutil.GoExecutable(t, "arm64")
	so := gcc(t, "c", "int lp(void) { return 1; }\n")
	tg := mustTarget(t, "python3.12", "x86_64")
	for name, a := range map[string]artifact{
		"a lone arm64 executable": {
			"python/samcli/local/rapid/aws-lambda-rie-arm64": arm,
		},
		"a name that does not spell the machine": {
			"python/pkg/rie":        arm,
			"python/pkg/rie-x86_64": x86,
		},
		"a twin in another folder": {
			"python/pkg/a/rie-arm64":  arm,
			"python/pkg/b/rie-x86_64": x86,
		},
		"a twin for the wrong machine": {
			"python/pkg/rie-arm64":  arm,
			"python/pkg/rie-x86_64": arm,
		},
		"a twin that is a shared object": {
			"python/pkg/rie-arm64":  arm,
			"python/pkg/rie-x86_64": so,
		},
		"the machine spelt inside a word": {
			"python/pkg/riearm64":  arm,
			"python/pkg/riex86_64": x86,
		},
		"a twin that is not a binary": {
			"python/pkg/rie-arm64":  arm,
			"python/pkg/rie-x86_64": bytes.Repeat([]byte("#!/bin/sh\n"), 8),
		},
	} {
		a["python/pkg/__init__.py"] = []byte("\n")
		rep := check(t, a, tg, verify.Options{})
		var foreign []verify.Finding
		for p, f := range archFindings(rep) {
			if p != "python/pkg/rie-x86_64" && p != "python/pkg/b/rie-x86_64" && p != "python/pkg/riex86_64" {
				foreign = append(foreign, f)
			}
		}
		if len(foreign) != 1 || foreign[0].Severity != verify.Error || !rep.Failed(false) {
			t.Errorf("%s: want one arch error for the arm64 executable, got%s", name, describe(rep.Findings))
		}
	}
}
