package sdist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Host is a CPython on this machine that runs build backends.
type Host struct {
	Path       string // what was found (may be a symlink)
	Executable string // the real interpreter (a venv's base)
	Version    [3]int
	Machine    string // platform.machine(): "x86_64", "aarch64"
	Glibc      string // "2.36"; "" when not glibc
	Include    string // its C headers
	Multiarch  string // "x86_64-linux-gnu"
	ExtSuffix  string
}

// Minor is "3.12".
func (h *Host) Minor() string { return fmt.Sprintf("%d.%d", h.Version[0], h.Version[1]) }

func (h *Host) String() string {
	return fmt.Sprintf("CPython %d.%d.%d (%s)", h.Version[0], h.Version[1], h.Version[2], h.Executable)
}

// FindPython looks for a CPython of a minor version ("3.12") in the usual
// places: python3.12 on PATH, pyenv's versions, uv's managed Pythons.
// Newest patch release first among the managed ones.
func FindPython(minor string) (string, error) {
	if p, err := exec.LookPath("python" + minor); err == nil {
		if !strings.Contains(p, "/shims/") { // a pyenv shim may point nowhere
			return p, nil
		}
	}
	home, _ := os.UserHomeDir()
	var roots []string
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		roots = append(roots, filepath.Join(r, "versions", minor+".*", "bin", "python"+minor))
	}
	roots = append(roots, filepath.Join(home, ".pyenv", "versions", minor+".*", "bin", "python"+minor))
	uvDir := os.Getenv("UV_PYTHON_INSTALL_DIR")
	if uvDir == "" {
		data := os.Getenv("XDG_DATA_HOME")
		if data == "" {
			data = filepath.Join(home, ".local", "share")
		}
		uvDir = filepath.Join(data, "uv", "python")
	}
	roots = append(roots, filepath.Join(uvDir, "cpython-"+minor+".*-linux-*-gnu", "bin", "python"+minor))
	for _, g := range roots {
		m, _ := filepath.Glob(g)
		sort.Slice(m, func(i, j int) bool { return patchOf(m[i], minor) > patchOf(m[j], minor) })
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("no CPython %s on this machine (looked for python%s on PATH, in pyenv's and uv's Pythons): install one, e.g. `uv python install %s` or `pyenv install %s`", minor, minor, minor, minor)
}

func patchOf(p, minor string) int {
	for _, seg := range strings.Split(p, string(filepath.Separator)) {
		s := strings.TrimPrefix(seg, "cpython-")
		if rest, ok := strings.CutPrefix(s, minor+"."); ok {
			end := 0
			for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n
			}
		}
	}
	return -1
}

// probeHost asks an interpreter what it is.
func probeHost(ctx context.Context, python, script string) (*Host, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-I", "-S", script, "probe")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, lastLines(string(ee.Stderr), 5))
		}
		return nil, fmt.Errorf("asking %s what it is: %w", python, err)
	}
	var p struct {
		Version        []int  `json:"version"`
		Implementation string `json:"implementation"`
		Machine        string `json:"machine"`
		Libc           string `json:"libc"`
		LibcVersion    string `json:"libc_version"`
		Executable     string `json:"executable"`
		Include        string `json:"include"`
		Multiarch      string `json:"multiarch"`
		ExtSuffix      string `json:"ext_suffix"`
		GilDisabled    bool   `json:"gil_disabled"`
	}
	if err := json.Unmarshal(out, &p); err != nil || len(p.Version) != 3 {
		return nil, fmt.Errorf("asking %s what it is: unexpected answer %q", python, strings.TrimSpace(string(out)))
	}
	if p.Implementation != "cpython" || p.GilDisabled {
		return nil, fmt.Errorf("%s is %s%s: builds need a regular CPython", python, p.Implementation, map[bool]string{true: " (free-threaded)"}[p.GilDisabled])
	}
	h := &Host{Path: python, Executable: p.Executable, Machine: p.Machine, Include: p.Include, Multiarch: p.Multiarch, ExtSuffix: p.ExtSuffix}
	copy(h.Version[:], p.Version)
	if p.Libc == "glibc" {
		h.Glibc = p.LibcVersion
	}
	return h, nil
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
