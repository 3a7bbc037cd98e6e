package sdist

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// disabledTools are the commands a pure build finds failing on PATH.
var disabledTools = []string{
	"cc", "gcc", "c++", "g++", "clang", "clang++", "cpp", "ld", "ld.gold", "ld.lld",
	"x86_64-linux-gnu-gcc", "aarch64-linux-gnu-gcc", "cmake", "make", "ninja",
	"cargo", "rustc", "rustup", "cargo-zigbuild", "zig", "nvcc", "gfortran",
}

// noExtensionVars are the switches well-known packages read to skip their
// optional extensions (as SAM's builder relies on them falling back).
var noExtensionVars = []string{
	"AIOHTTP_NO_EXTENSIONS=1", "MULTIDICT_NO_EXTENSIONS=1", "YARL_NO_EXTENSIONS=1",
	"FROZENLIST_NO_EXTENSIONS=1", "PROPCACHE_NO_EXTENSIONS=1", "MSGPACK_PUREPYTHON=1",
	"DISABLE_SQLALCHEMY_CEXT=1", "DISABLE_SQLALCHEMY_CEXT_RUNTIME=1", "WRAPT_INSTALL_EXTENSIONS=false",
	"CHARSET_NORMALIZER_USE_MYPYC=0", "PYYAML_FORCE_CYTHON=0", "SKIP_CYTHON=1",
	"CASS_DRIVER_NO_EXTENSIONS=1", "DISABLE_SPEEDUPS=1", "SIMPLEJSON_DISABLE_SPEEDUPS=1",
}

const disabledScript = "#!/bin/sh\necho \"lambdapack: $(basename \"$0\") is disabled in a pure-Python build\" >&2\nexit 1\n"

// noCompilers writes (once) the folder of failing compiler commands.
func (b *Builder) noCompilers() (string, error) {
	root, err := b.Cache.Dir("no-compilers")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(disabledScript + strings.Join(disabledTools, " ")))
	dir := filepath.Join(root, hex.EncodeToString(sum[:])[:16])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, t := range disabledTools {
		if err := os.WriteFile(filepath.Join(tmp, t), []byte(disabledScript), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// pureEnv points every compiler variable at a failing command.
func pureEnv(dir string) []string {
	cc := filepath.Join(dir, "cc")
	env := []string{
		"CC=" + cc, "CXX=" + filepath.Join(dir, "c++"), "LDSHARED=" + cc, "LDCXXSHARED=" + cc,
		"CPP=" + filepath.Join(dir, "cpp"), "CARGO=" + filepath.Join(dir, "cargo"), "RUSTC=" + filepath.Join(dir, "rustc"),
		"PKG_CONFIG_LIBDIR=" + dir, "PKG_CONFIG_PATH=",
	}
	return append(env, noExtensionVars...)
}
