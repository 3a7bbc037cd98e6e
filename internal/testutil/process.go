package testutil

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ProcessesWith lists the live processes (zombies left out: they are dead,
// waiting for their reaper) whose environment holds s, such as a function's
// "AWS_LAMBDA_FUNCTION_NAME=api\x00": what a test checks is not left
// behind.
func ProcessesWith(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !strings.Contains(string(env), s) {
			continue
		}
		st, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			continue
		}
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// SyncBuffer collects what concurrent writers write (a function's log, say)
// for a test to read while they run.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
