package lock

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
)

// TestQASelectFileReadsItsOwnLockUnderAnyName: `lambdapack lock ... -o
// mylock.toml` succeeds (with only a note that the name is not PEP 751's),
// then `lambdapack layer --lock mylock.toml` refuses it: "not a lock file
// lambdapack reads: use pylock.toml, ...". SelectFile picks the reader by file
// name only; a .toml with lock-version (what lambdapack itself wrote) should
// be read as a pylock.
func TestQASelectFileReadsItsOwnLockUnderAnyName(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mylock.toml")
	l := sample()
	l.Environments = nil
	l.RequiresPython = ""
	if err := WritePylockFile(p, l); err != nil {
		t.Fatal(err)
	}
	tg, err := target.New("python3.12", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	_, err = SelectFile(p, tg, nil)
	if errors.Is(err, errNotLock) {
		t.Fatalf("lambdapack's own lock, named mylock.toml: %v", err)
	}
}
