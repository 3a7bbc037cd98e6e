package verify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

type mapFacts struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (f *mapFacts) Get(k string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[k]
	return v, ok
}

func (f *mapFacts) Put(k string, v []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[k] = v
}

// What was learnt about a binary is remembered by its digest: a second check
// of the same content reads nothing and finds the same problems.
func TestFactsRememberBinaries(t *testing.T) {
	so := gcc(t, "c", "int f(void) { return 1; }\n") // x86_64
	arm, err := target.New("python3.12", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	facts := &mapFacts{m: map[string][]byte{}}
	reads := 0
	entry := func(open func() (io.ReadCloser, error)) []verify.Entry {
		return []verify.Entry{{Path: "python/m.cpython-312-aarch64-linux-gnu.so", Size: int64(len(so)), Digest: "sha256-of-m", Open: open}}
	}
	check := func(es []verify.Entry) []verify.Finding {
		rep, err := verify.Check(context.Background(), verify.EntriesSource("layer.zip", es), arm, verify.Options{Kind: verify.KindLayer, Facts: facts})
		if err != nil {
			t.Fatal(err)
		}
		var errs []verify.Finding
		for _, f := range rep.Findings {
			if f.Severity == verify.Error {
				errs = append(errs, f)
			}
		}
		return errs
	}
	first := check(entry(func() (io.ReadCloser, error) { reads++; return io.NopCloser(bytes.NewReader(so)), nil }))
	if len(first) == 0 || first[0].Rule != verify.RuleArch {
		t.Fatalf("an x86_64 .so in an arm64 layer: %+v", first)
	}
	if len(facts.m) != 1 || reads == 0 {
		t.Fatalf("facts %d, reads %d", len(facts.m), reads)
	}
	second := check(entry(func() (io.ReadCloser, error) { return nil, errors.New("must not be read") }))
	if len(second) != len(first) || second[0].Rule != first[0].Rule {
		t.Errorf("from facts: %+v, want %+v", second, first)
	}
}
