package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
)

func writeLock(t *testing.T, name, body string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, c := range extra {
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustTarget(t *testing.T, rt, arch string) target.Target {
	t.Helper()
	tg, err := target.New(rt, arch)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func summary(sel []Selected) string {
	var b []string
	for _, s := range sel {
		b = append(b, s.Name+"=="+s.Version+" "+s.Wheel.Name)
	}
	return strings.Join(b, "\n")
}

const uvLockText = `version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "fast", marker = "platform_machine == 'aarch64'" },
    { name = "pure", extra = ["speed"] },
    { name = "winonly", marker = "sys_platform == 'win32'" },
]

[[package]]
name = "fast"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
wheels = [
    { url = "https://example.invalid/fast-1.0-cp312-cp312-manylinux_2_17_aarch64.whl", hash = "sha256:aa", size = 10 },
    { url = "https://example.invalid/fast-1.0-cp312-cp312-manylinux_2_28_aarch64.whl", hash = "sha256:bb", size = 10 },
    { url = "https://example.invalid/fast-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", hash = "sha256:cc", size = 10 },
]

[[package]]
name = "pure"
version = "2.0"
source = { registry = "https://example.invalid/simple" }
wheels = [{ url = "https://example.invalid/pure-2.0-py3-none-any.whl", hash = "sha256:dd", size = 5 }]

[package.optional-dependencies]
speed = [{ name = "speedup" }]

[[package]]
name = "speedup"
version = "3.0"
source = { registry = "https://example.invalid/simple" }
sdist = { url = "https://example.invalid/speedup-3.0.tar.gz", hash = "sha256:ee", size = 5 }
wheels = [{ url = "https://example.invalid/speedup-3.0-py3-none-any.whl", hash = "sha256:ff", size = 5 }]

[[package]]
name = "winonly"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
sdist = { url = "https://example.invalid/winonly-1.0.tar.gz", hash = "sha256:11", size = 5 }
`

func TestSelectUVLock(t *testing.T) {
	p := writeLock(t, "uv.lock", uvLockText, nil)
	sel, err := SelectUVLock(p, mustTarget(t, "python3.12", "arm64"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "fast==1.0 fast-1.0-cp312-cp312-manylinux_2_28_aarch64.whl\npure==2.0 pure-2.0-py3-none-any.whl\nspeedup==3.0 speedup-3.0-py3-none-any.whl"
	if got := summary(sel); got != want {
		t.Errorf("arm64:\n%s\nwant\n%s", got, want)
	}
	if sel[0].Wheel.SHA256() != "bb" {
		t.Errorf("hash %q", sel[0].Wheel.SHA256())
	}
	// x86_64: the marker drops fast.
	sel, err = SelectUVLock(p, mustTarget(t, "python3.12", "x86_64"), nil)
	if err != nil || len(sel) != 2 {
		t.Errorf("x86_64: %v %s", err, summary(sel))
	}
	// python3.11 arm64 (glibc 2.26) has no wheel of fast: a named error.
	_, err = SelectUVLock(p, mustTarget(t, "python3.11", "arm64"), nil)
	var nw *NoWheelError
	if !errors.As(err, &nw) || nw.Name != "fast" || !strings.Contains(err.Error(), "cp312-manylinux_2_17_aarch64") {
		t.Errorf("python3.11 arm64: %v", err)
	}
}

func TestSelectPoetryLock(t *testing.T) {
	lockText := `[[package]]
name = "requests"
version = "2.32.4"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {file = "requests-2.32.4-py3-none-any.whl", hash = "sha256:11"},
    {file = "requests-2.32.4.tar.gz", hash = "sha256:22"},
]

[package.dependencies]
idna = ">=2.5,<4"
colorama = {version = "*", markers = "sys_platform == \"win32\""}

[[package]]
name = "idna"
version = "3.10"
optional = false
python-versions = ">=3.6"
groups = ["main"]
files = [{file = "idna-3.10-py3-none-any.whl", hash = "sha256:33"}]

[[package]]
name = "colorama"
version = "0.4.6"
optional = false
python-versions = "*"
groups = ["main"]
markers = "sys_platform == \"win32\""
files = [{file = "colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:44"}]

[[package]]
name = "pytest"
version = "8.0.0"
optional = false
python-versions = ">=3.8"
groups = ["dev"]
files = [{file = "pytest-8.0.0-py3-none-any.whl", hash = "sha256:55"}]

[metadata]
lock-version = "2.1"
`
	tg := mustTarget(t, "python3.12", "x86_64")
	// Without a pyproject: the main group, markers evaluated.
	sel, err := SelectPoetryLock(writeLock(t, "poetry.lock", lockText, nil), tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(sel); got != "idna==3.10 idna-3.10-py3-none-any.whl\nrequests==2.32.4 requests-2.32.4-py3-none-any.whl" {
		t.Errorf("no pyproject:\n%s", got)
	}
	// With a pyproject: walked from its dependencies.
	sel, err = SelectPoetryLock(writeLock(t, "poetry.lock", lockText, map[string]string{
		"pyproject.toml": "[project]\nname='x'\nversion='1'\ndependencies=['requests']\n"}), tg, nil)
	if err != nil || len(sel) != 2 || sel[1].Wheel.SHA256() != "11" {
		t.Errorf("pyproject: %v\n%s", err, summary(sel))
	}
}

func TestSelectPipfileLock(t *testing.T) {
	p := writeLock(t, "Pipfile.lock", `{"_meta": {}, "default": {
  "requests": {"hashes": ["sha256:AA", "sha256:bb"], "version": "==2.32.4"},
  "pywin32": {"hashes": ["sha256:cc"], "version": "==306", "markers": "sys_platform == 'win32'"}
}, "develop": {"pytest": {"hashes": ["sha256:dd"], "version": "==8.0.0"}}}`, nil)
	sel, err := SelectPipfileLock(p, mustTarget(t, "python3.12", "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 1 || sel[0].Name != "requests" || sel[0].Version != "2.32.4" || strings.Join(sel[0].ByHash, ",") != "aa,bb" {
		t.Errorf("got %+v", sel)
	}
	if _, err := SelectFile(filepath.Join(t.TempDir(), "requirements.lock"), mustTarget(t, "python3.12", "x86_64"), nil); err == nil {
		t.Error("unknown lock name accepted")
	}
}

// Older poetry.lock files keep their files outside [[package]]: lock-version
// 1.x (Poetry 1.1 to 1.4) under [metadata.files], Poetry 1.0 and older only
// hashes under [metadata.hashes]. Both are read, not reported as "no wheels
// at all"; and a package from git is the error named even when another
// package comes first.
func TestSelectPoetryLockOlderFormats(t *testing.T) {
	v11 := `[[package]]
category = "main"
description = "HTTP for Humans."
name = "requests"
optional = false
python-versions = ">=3.7"
version = "2.28.1"

[package.dependencies]
idna = ">=2.5,<4"

[[package]]
category = "main"
name = "idna"
optional = false
python-versions = ">=3.5"
version = "3.4"

[metadata]
lock-version = "1.1"
python-versions = "^3.9"
content-hash = "abc"

[metadata.files]
Requests = [
    {file = "requests-2.28.1-py3-none-any.whl", hash = "sha256:8fefa2a1"},
    {file = "requests-2.28.1.tar.gz", hash = "sha256:7c5599b1"},
]
idna = [
    {file = "idna-3.4-py3-none-any.whl", hash = "sha256:90b77e79"},
]
`
	tg := mustTarget(t, "python3.12", "x86_64")
	sel, err := SelectPoetryLock(writeLock(t, "poetry.lock", v11, nil), tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(sel); got != "idna==3.4 idna-3.4-py3-none-any.whl\nrequests==2.28.1 requests-2.28.1-py3-none-any.whl" || sel[1].Wheel.SHA256() != "8fefa2a1" {
		t.Errorf("lock-version 1.1:\n%s", got)
	}

	v10 := `[[package]]
category = "main"
name = "six"
optional = false
python-versions = "*"
version = "1.12.0"

[metadata]
content-hash = "abc"
python-versions = "^3.6"

[metadata.hashes]
six = ["3350809f", "d16a0141"]
`
	sel, err = SelectPoetryLock(writeLock(t, "poetry.lock", v10, nil), tg, nil)
	if err != nil || len(sel) != 1 || sel[0].Version != "1.12.0" || strings.Join(sel[0].ByHash, ",") != "3350809f,d16a0141" || sel[0].Wheel.Name != "" {
		t.Errorf("Poetry 1.0 hashes: %v %+v", err, sel)
	}

	withGit := `[[package]]
category = "main"
name = "boto3"
optional = false
python-versions = "*"
version = "1.9.150"

[[package]]
category = "main"
name = "bottle"
optional = false
python-versions = "*"
version = "0.12.16"

[package.source]
reference = "0.12.16"
type = "git"
url = "ssh://git@example.invalid/bottle.git"

[metadata]
content-hash = "abc"
python-versions = "^3.6"

[metadata.hashes]
boto3 = ["12538090"]
bottle = []
`
	_, err = SelectPoetryLock(writeLock(t, "poetry.lock", withGit, nil), tg, nil)
	if err == nil || !strings.Contains(err.Error(), "package bottle comes from a git source") {
		t.Errorf("git source: %v", err)
	}
}
