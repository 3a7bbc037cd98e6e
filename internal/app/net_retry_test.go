package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// A run that waits on a failing index says so on its progress log (issue
// 12: a dead index used to fail after minutes, silently).
func TestIndexRetriesArePrinted(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "demo", Version: "1.0"})
	ix.Inject(testutil.PagePath("demo"), testutil.Fault{Status: 503, Times: 1})
	var log bytes.Buffer
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cl, err := env.Pins.Index(index.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Project(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	want := "retrying " + ix.URL + "demo/ in 250ms (attempt 2 of 5): HTTP 503 Service Unavailable\n"
	if !strings.Contains(log.String(), want) {
		t.Fatalf("log:\n%s\nwant a line %q", log.String(), want)
	}
}
