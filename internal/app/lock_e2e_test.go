package app

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// TestLockRealIndex runs `lambdapack lock` end to end against the real
// index (found the way the product finds it, with nothing set here) for an
// Amazon Linux 2 and an Amazon Linux 2023 runtime, and checks the written
// pylock.toml: every wheel installs on the target and needs no newer glibc.
func TestLockRealIndex(t *testing.T) {
	dir := t.TempDir()
	env, err := OpenEnv(EnvOptions{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	for _, c := range []struct{ runtime, arch string }{{"python3.11", "x86_64"}, {"python3.12", "arm64"}} {
		out := filepath.Join(dir, "pylock."+c.runtime+"-"+c.arch+".toml")
		r, err := Lock(context.Background(), env, LockOptions{
			Deps:    Inputs{Requirements: []string{"fastapi", "pydantic", "cryptography", "numpy", "orjson"}},
			Runtime: c.runtime, Arch: c.arch, Output: out,
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err := lock.ReadPylockFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tg, _ := target.New(c.runtime, c.arch)
		if len(l.Packages) < 10 {
			t.Errorf("%s: only %d packages", tg, len(l.Packages))
		}
		for _, p := range l.Packages {
			w, err := tags.ParseWheelFilename(p.Wheels[0].Name)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tg.WheelRank(w); !ok {
				t.Errorf("%s: %s does not install on %s", p.Name, w.Filename, tg)
			}
			for _, tag := range w.Tags {
				if m, ok := tags.ParseManylinux(tag.Platform); ok && !m.Compatible(tg.GlibcMajor, tg.GlibcMinor) {
					// A multi-tag wheel may also name a newer policy;
					// one tag the target accepts is enough.
					if rank, ok := tg.TagRank(tag); ok {
						t.Errorf("%s: accepted tag %s (rank %d) needs glibc %d.%d", p.Name, tag, rank, m.GlibcMajor, m.GlibcMinor)
					}
				}
			}
			if p.Wheels[0].SHA256() == "" || p.Wheels[0].URL == "" || p.Wheels[0].Size <= 0 {
				t.Errorf("%s: wheel entry %+v", p.Name, p.Wheels[0])
			}
		}
		t.Logf("%s: %d packages, %d notes", tg, len(r.Report.Packages), len(r.Notes))
	}
}
