package publish_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// createFunctionOn creates a function in moto with the given runtime and
// architecture and returns the CodeSha256 of its first code.
func createFunctionOn(t *testing.T, ep string, cl awsClients, name string, rt ltypes.Runtime, arch ltypes.Architecture) string {
	t.Helper()
	role := testutil.MotoLambdaRole(t, ep, name+"-role")
	first := writeZip(t, map[string]string{"app.py": "def handler(e, c):\n    return 0\n"}, "")
	_, code := sums(t, first)
	_, err := cl.lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: rt, Role: aws.String(role), Handler: aws.String("app.handler"),
		Code: &ltypes.FunctionCode{ZipFile: readFile(t, first)}, Architectures: []ltypes.Architecture{arch},
	})
	if err != nil {
		t.Fatalf("CreateFunction in moto: %v", err)
	}
	return code
}

func functionZip(t *testing.T, rec record.Record) string {
	t.Helper()
	c, err := rec.Format()
	if err != nil {
		t.Fatal(err)
	}
	return writeZip(t, map[string]string{"app.py": "def handler(e, c):\n    return 1\n", "native/_speedups.py": ""}, c)
}

func currentCode(t *testing.T, cl awsClients, name string) string {
	t.Helper()
	got, err := cl.lambda.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(got.CodeSha256)
}

// TestFunctionRefusesAnotherTarget: a function zip built for one
// architecture or Python is not deployed to a function that would run it
// on another, whether the architecture comes from --arch or from the
// function, and the runtime is the function's own (GetFunctionConfiguration).
func TestFunctionRefusesAnotherTarget(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	first := createFunctionOn(t, ep, cl, "py311", ltypes.RuntimePython311, ltypes.ArchitectureX8664)
	poll := 50 * time.Millisecond

	for _, c := range []struct {
		name string
		rec  record.Record
		arch string
		want []string
	}{
		{"--arch x86_64 on an arm64 zip", record.Record{Kind: record.KindFunction, Runtime: "python3.11", Architecture: "arm64"}, "x86_64",
			[]string{"built for arm64", "on x86_64 (--arch)", "--force"}},
		{"an arm64 zip on an x86_64 function", record.Record{Kind: record.KindFunction, Runtime: "python3.11", Architecture: "arm64"}, "",
			[]string{"built for arm64", "its current architecture", "pass --arch arm64"}},
		{"python3.12 zip on a python3.11 function", record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "x86_64"}, "",
			[]string{"built for python3.12", "uses python3.11", "--runtime python3.11", "--force"}},
		{"python3.12 zip, --arch given", record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "x86_64"}, "x86_64",
			[]string{"built for python3.12", "uses python3.11"}},
		{"an older record without kind", record.Record{Runtime: "python3.13", Architecture: "x86_64"}, "",
			[]string{"built for python3.13"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := functionZip(t, c.rec)
			_, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "py311", Architecture: c.arch, PollInterval: poll})
			if err == nil {
				t.Fatal("published")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if got := currentCode(t, cl, "py311"); got != first {
				t.Fatalf("the function's code changed to %s after a refusal", got)
			}
		})
	}

	// --force deploys, with the reasons as warnings.
	z := functionZip(t, record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "arm64"})
	_, code := sums(t, z)
	res, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "py311", Architecture: "x86_64", Force: true, PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || currentCode(t, cl, "py311") != code || len(res.Warnings) != 2 ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "published anyway because of --force") {
		t.Fatalf("forced: %+v", res)
	}

	// A pure-Python zip (both architectures) on another Python: deployed,
	// with a warning.
	z = functionZip(t, record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architectures: []string{"arm64", "x86_64"}})
	res, err = publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "py311", PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "pure Python") {
		t.Fatalf("pure zip on another Python: %+v", res)
	}

	// The zip that matches: no warning.
	z = functionZip(t, record.Record{Kind: record.KindFunction, Runtime: "python3.11", Architecture: "x86_64"})
	res, err = publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "py311", PollInterval: poll})
	if err != nil || !res.Changed || len(res.Warnings) != 0 {
		t.Fatalf("matching zip: %+v %v", res, err)
	}
}

// TestFunctionRuntimeFromArm64Function: the function's architecture comes
// from its configuration, so an x86_64 zip is refused for an arm64
// function and an arm64 zip accepted.
func TestFunctionRuntimeFromArm64Function(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	createFunctionOn(t, ep, cl, "graviton", ltypes.RuntimePython313, ltypes.ArchitectureArm64)
	z := functionZip(t, record.Record{Kind: record.KindFunction, Runtime: "python3.13", Architecture: "x86_64"})
	if _, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "graviton"}); err == nil || !strings.Contains(err.Error(), "would run it on arm64") {
		t.Fatalf("x86_64 zip on an arm64 function: %v", err)
	}
	z = functionZip(t, record.Record{Kind: record.KindFunction, Runtime: "python3.13", Architecture: "arm64"})
	res, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "graviton", PollInterval: 50 * time.Millisecond})
	if err != nil || !res.Changed || res.Architecture != "arm64" || res.Runtime != "python3.13" {
		t.Fatalf("arm64 zip on an arm64 function: %+v %v", res, err)
	}
}

// TestPublishChecksKind: the record's kind decides; without one, the
// layout does; --force publishes anyway with a warning.
func TestPublishChecksKind(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	first := createFunctionOn(t, ep, cl, "kinds", ltypes.RuntimePython312, ltypes.ArchitectureX8664)
	fnRec, _ := record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "x86_64"}.Format()
	layerRec, _ := record.Record{Kind: record.KindLayer, Runtime: "python3.12", Architecture: "x86_64"}.Format()
	layerOpts := func(z string) publish.LayerOptions {
		return publish.LayerOptions{ZipPath: z, Name: "kinds", Runtimes: []string{"python3.12"}, Architectures: []string{"x86_64"}}
	}

	for _, c := range []struct {
		name  string
		files map[string]string
		rec   string
		want  string
	}{
		{"function zip by its record", map[string]string{"app.py": "", "python/odd.py": ""}, fnRec, "is a function zip, not a layer (its lambdapack record says so)"},
		{"function zip by its layout", map[string]string{"app.py": "", "requests/__init__.py": ""}, "", "it has code at its root and nothing under python/"},
	} {
		t.Run("layer/"+c.name, func(t *testing.T) {
			z := writeZip(t, c.files, c.rec)
			_, err := publish.Layer(ctx, layerOpts(z))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "publish function") {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			list, err := cl.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("kinds")})
			if err == nil && len(list.LayerVersions) > 0 {
				t.Fatalf("a version was published: %+v", list.LayerVersions)
			}
		})
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		rec   string
		want  string
	}{
		{"layer zip by its record", map[string]string{"python/mod.py": "", "app.py": ""}, layerRec, "is a layer zip, not a function's code (its lambdapack record says so)"},
		{"layer zip by its layout", map[string]string{"python/requests/__init__.py": "", "bin/tool": ""}, "", "it has packages under python/ and no code at its root"},
	} {
		t.Run("function/"+c.name, func(t *testing.T) {
			z := writeZip(t, c.files, c.rec)
			_, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "kinds"})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "publish layer") {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if got := currentCode(t, cl, "kinds"); got != first {
				t.Fatalf("the function's code changed after a refusal")
			}
		})
	}

	// A layer of binaries only (no record, nothing to tell): published.
	bin := writeZip(t, map[string]string{"bin/tool": "#!/bin/sh\n", "lib/libx.so": "x"}, "")
	if res, err := publish.Layer(ctx, layerOpts(bin)); err != nil || !res.Changed || len(res.Warnings) != 0 {
		t.Fatalf("a layer of binaries: %+v %v", res, err)
	}
	// --force: published, and said.
	fz := writeZip(t, map[string]string{"app.py": ""}, fnRec)
	o := layerOpts(fz)
	o.Force = true
	res, err := publish.Layer(ctx, o)
	if err != nil || !res.Changed || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "published anyway because of --force") {
		t.Fatalf("forced layer: %+v %v", res, err)
	}
	lz := writeZip(t, map[string]string{"python/mod.py": ""}, layerRec)
	fres, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: lz, FunctionName: "kinds", Force: true, PollInterval: 50 * time.Millisecond})
	if err != nil || !fres.Changed || len(fres.Warnings) != 1 || !strings.Contains(fres.Warnings[0], "not a function's code") {
		t.Fatalf("forced function: %+v %v", fres, err)
	}
}
