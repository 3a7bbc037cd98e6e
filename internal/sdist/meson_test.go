package sdist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mesonSdist is a meson-python project (numpy's, scipy's and many newer
// packages' backend) with one C extension module, lp_meson._speed
// (answerC), built by meson and ninja from build-system.requires (which
// requires is given) and what meson-python asks for.
func mesonSdist(t *testing.T, dir, requires string) Sdist {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return writeSdist(t, dir, "lp-meson", "1.0", map[string]string{
		"PKG-INFO": "Metadata-Version: 2.1\nName: lp-meson\nVersion: 1.0\n",
		"pyproject.toml": "[build-system]\nrequires = [" + requires + "]\nbuild-backend = \"mesonpy\"\n" +
			"[project]\nname = \"lp-meson\"\nversion = \"1.0\"\n",
		"meson.build": "project('lp-meson', 'c', version: '1.0')\n" +
			"py = import('python').find_installation(pure: false)\n" +
			"py.extension_module('_speed', 'lp_meson/speed.c', subdir: 'lp_meson', install: true)\n" +
			"py.install_sources('lp_meson/__init__.py', subdir: 'lp_meson')\n",
		"lp_meson/__init__.py": "from ._speed import answer\n",
		"lp_meson/speed.c":     answerC,
	})
}

// TestRealMesonCrossBuilt builds a meson-python sdist for python3.11 on
// arm64 and python3.12 on x86_64: meson must accept the zig wrappers as
// compilers and linkers (it asks `cc -Wl,--version` which linker it is),
// and must know it is cross-compiling when the target's machine is not the
// build machine's. The wheel holds the target's ELF extension, which
// imports with the target's Python (under qemu for arm64).
//
// Two generations of the backend: numpy 1.26's (meson-python 0.15, meson
// 1.2, which do not know zig's linker: the wrappers answer as LLD), and
// the newest on the index.
func TestRealMesonCrossBuilt(t *testing.T) {
	b := realBuilder(t)
	dir := t.TempDir()
	sdists := map[string]Sdist{
		"meson1.2": mesonSdist(t, filepath.Join(dir, "old"), `"meson-python>=0.15,<0.16", "meson==1.2.3"`),
		"newest":   mesonSdist(t, filepath.Join(dir, "new"), `"meson-python"`),
	}
	for _, tc := range []struct{ sdist, runtime, arch, machine, platform, elf string }{
		{"meson1.2", "python3.11", "arm64", "aarch64", "manylinux_2_26_aarch64", "EM_AARCH64"},
		{"meson1.2", "python3.12", "x86_64", "x86_64", "manylinux_2_34_x86_64", "EM_X86_64"},
		{"newest", "python3.11", "arm64", "aarch64", "manylinux_2_26_aarch64", "EM_AARCH64"},
		{"newest", "python3.12", "x86_64", "x86_64", "manylinux_2_34_x86_64", "EM_X86_64"},
	} {
		tg := mustTarget(t, tc.runtime, tc.arch)
		s := sdists[tc.sdist]
		t.Run(tc.sdist+"-"+tg.Runtime+"-"+string(tg.Arch), func(t *testing.T) {
			w, err := b.Build(context.Background(), s, tg)
			if err != nil {
				t.Fatal(err)
			}
			cp := "cp" + strings.ReplaceAll(tg.Python(), ".", "")
			if want := "lp_meson-1.0-" + cp + "-" + cp + "-" + tc.platform + ".whl"; w.Filename != want || w.Pure || w.Mode != Cross {
				t.Fatalf("got %s (pure %v, mode %s), want %s from the cross build", w.Filename, w.Pure, w.Mode, want)
			}
			names, machines := wheelMembers(t, w.Path)
			so := "lp_meson/_speed.cpython-" + strings.TrimPrefix(cp, "cp") + "-" + tc.machine + "-linux-gnu.so"
			if m, ok := machines[so]; !ok || m.String() != tc.elf || len(machines) != 1 {
				t.Fatalf("want one ELF file, %s for %s; the wheel holds %v (ELF: %v)", so, tc.machine, names, machines)
			}
			got := importWheel(t, tg, w.Path, "import lp_meson, lp_meson._speed as s; print(s.__file__.rsplit('/', 1)[1], lp_meson.answer())")
			if want := so[len("lp_meson/"):] + " (42, '" + tc.machine + "')"; got != want {
				t.Errorf("imported %q, want %q", got, want)
			}
		})
	}
}
