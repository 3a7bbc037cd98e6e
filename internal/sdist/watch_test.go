package sdist

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Folders every program writes in are never watched, whoever names them
// (a build run from /tmp failed for other programs' writes); the user's
// home and the sdist's folder are.
func TestWatchDirsLeaveSharedFoldersOut(t *testing.T) {
	dir := t.TempDir()
	b := &Builder{Watch: []string{"/tmp", "/", os.TempDir(), dir}}
	got := b.watchDirs(Sdist{Path: filepath.Join(dir, "x-1.0.tar.gz")}, &scratch{Root: filepath.Join(dir, "build-tmp", "b-1")})
	for _, shared := range []string{"/", "/tmp", "/var/tmp", "/dev/shm", filepath.Clean(os.TempDir())} {
		if slices.Contains(got, shared) {
			t.Errorf("%s is watched: %v", shared, got)
		}
	}
	home, _ := os.UserHomeDir()
	for _, want := range []string{dir, filepath.Join(dir, "build-tmp"), home} {
		if want != "" && !slices.Contains(got, want) {
			t.Errorf("%s is not watched: %v", want, got)
		}
	}
}
