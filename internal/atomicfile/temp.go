package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TempPrefix starts the name of every temporary file lambdapack makes
// beside the files it writes: ".tmp-lambdapack-<what>-<16 hex digits>".
// The cache's sweep recognises it by its ".tmp-" start; RemoveStale, which
// runs in folders lambdapack shares with the user (beside -o), by the whole
// form (IsTemp).
const TempPrefix = ".tmp-lambdapack-"

// StaleAge is how long a temporary file goes unmodified before a later run
// may take it for the leftover of a killed one: a file being written is
// modified as it grows, and nothing lambdapack writes pauses for an hour.
const StaleAge = time.Hour

// maxWhat bounds the part of a temporary name that says what it is for,
// so that a long destination name still leaves a temporary name under the
// file systems' 255 bytes.
const maxWhat = 100

// Scratch creates a new temporary file in dir, named for what (a
// destination's base name, "spill"), open for reading and writing with
// mode 0600. The caller removes it (or Create's File commits or aborts it).
func Scratch(dir, what string) (*os.File, error) {
	if len(what) > maxWhat {
		what = what[:maxWhat]
	}
	for range 100 {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, TempPrefix+what+"-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, TempPrefix+what+"-*"), Err: fs.ErrExist}
}

// IsTemp reports whether name (a base name) has the form of lambdapack's
// temporary files: TempPrefix, what it is for, "-" and 16 lower-case hex
// digits. Nothing else is ever swept.
func IsTemp(name string) bool {
	rest, ok := strings.CutPrefix(name, TempPrefix)
	if !ok || len(rest) < 17 || rest[len(rest)-17] != '-' {
		return false
	}
	for _, c := range rest[len(rest)-16:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files a killed run left in dir: regular
// files (never folders or symlinks) named as IsTemp says, unmodified for
// longer than age. It returns the names removed; a folder that cannot be
// read removes nothing and is no error (the write that follows says why).
func RemoveStale(dir string, age time.Duration) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	cutoff := time.Now().Add(-age)
	var removed []string
	for _, e := range ents {
		if !IsTemp(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}

// swept holds the folders this process has swept.
var swept sync.Map

// Sweep runs RemoveStale on dir with StaleAge the first time this process
// asks for dir, and returns what it removed; later calls do nothing. Create
// calls it for the folder it writes into, so every folder lambdapack writes
// files into loses the leftovers of killed runs the first time a later run
// writes there.
func Sweep(dir string) []string {
	if _, done := swept.LoadOrStore(filepath.Clean(dir), struct{}{}); done {
		return nil
	}
	return RemoveStale(dir, StaleAge)
}
