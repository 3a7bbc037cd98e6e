package index

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// A warm run reads the memoised parse of a JSON page; a damaged memo is
// ignored, never trusted.
func TestParsedPageMemo(t *testing.T) {
	url := testutil.NewIndex(t, testutil.Wheel{Name: "alpha", Version: "1.0"}, testutil.Wheel{Name: "alpha", Version: "2.0"})
	dir := t.TempDir()
	ctx := context.Background()
	first, err := fastClient(t, Config{IndexURL: url}, WithCacheDir(dir)).Project(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	memos, _ := filepath.Glob(filepath.Join(dir, "parsed-v1", "*", "*"))
	if len(memos) != 1 {
		t.Fatalf("parsed memos: %v", memos)
	}
	second, err := fastClient(t, Config{IndexURL: url}, WithCacheDir(dir)).Project(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if !gocmp.Equal(first.Files, second.Files) {
		t.Errorf("memoised parse differs: %+v vs %+v", second.Files, first.Files)
	}
	if err := os.WriteFile(memos[0], []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := fastClient(t, Config{IndexURL: url}, WithCacheDir(dir)).Project(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Files) != len(first.Files) {
		t.Errorf("after a damaged memo: %d files, want %d", len(third.Files), len(first.Files))
	}
}
