package target

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"
)

// Arch is a Lambda architecture, named as Lambda names it.
type Arch string

// The two Lambda architectures.
const (
	X86_64 Arch = "x86_64"
	ARM64  Arch = "arm64"
)

// ParseArch reads an architecture name, accepting the usual aliases:
// x86_64, amd64, x64 -> x86_64; arm64, aarch64 -> arm64 (case-insensitive).
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "x86_64", "x86-64", "amd64", "x64":
		return X86_64, nil
	case "arm64", "aarch64", "arm64v8":
		return ARM64, nil
	}
	return "", fmt.Errorf("unknown architecture %q: use x86_64 (alias amd64) or arm64 (alias aarch64)", s)
}

// Machine is the architecture as Python's platform.machine() reports it on
// Lambda and as manylinux tags spell it: "x86_64" or "aarch64".
func (a Arch) Machine() string {
	if a == ARM64 {
		return "aarch64"
	}
	return string(a)
}

// Runtime is one row of the runtime table.
type Runtime struct {
	Name          string // "python3.12"
	Python        string // "3.12"
	PythonFull    string // "3.12.11": approximate, AWS moves it with runtime updates
	OS            string // "Amazon Linux 2023"
	Glibc         string // "2.34"
	Architectures []Arch
	Deprecated    string // YYYY-MM-DD: end of AWS security patches
}

// Runtimes returns the runtime table, newest runtime first (a copy).
func Runtimes() []Runtime {
	out := make([]Runtime, len(runtimeTable))
	for i, r := range runtimeTable {
		r.Architectures = slices.Clone(r.Architectures)
		out[i] = r
	}
	return out
}

// LookupRuntime finds a runtime by name. An unknown name gets an error that
// lists the known runtimes and, when it can, says what was probably meant.
func LookupRuntime(name string) (Runtime, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, r := range Runtimes() {
		if r.Name == n {
			return r, nil
		}
	}
	return Runtime{}, unknownRuntime(name)
}

func knownNames() []string {
	var out []string
	for _, r := range runtimeTable {
		out = append(out, r.Name)
	}
	return out
}

func unknownRuntime(name string) error {
	known := strings.Join(knownNames(), ", ")
	n := strings.ToLower(strings.TrimSpace(name))
	if ended, ok := retiredRuntimes[n]; ok {
		return fmt.Errorf("runtime %s is deprecated and not supported (AWS ended support on %s); use a supported runtime: %s", n, ended, strings.Join(supported(clock()), ", "))
	}
	if hint := suggestRuntime(n); hint != "" {
		return fmt.Errorf("unknown runtime %q: did you mean %s? (known runtimes: %s)", name, hint, known)
	}
	return fmt.Errorf("unknown runtime %q (known runtimes: %s)", name, known)
}

// clock is what deprecation dates are compared with (a test sets it).
var clock = time.Now

// supported lists the runtimes whose end of support is still ahead on now,
// newest first: a retired runtime's error suggests none of the deprecated
// ones (python3.9 after 2025-12-15). All of them when none is left.
func supported(now time.Time) []string {
	var out []string
	for _, r := range runtimeTable {
		if d, err := time.Parse(time.DateOnly, r.Deprecated); err == nil && !now.Before(d) {
			continue
		}
		out = append(out, r.Name)
	}
	if len(out) == 0 {
		return knownNames()
	}
	return out
}

// suggestRuntime guesses the runtime meant by a near miss: "3.12",
// "python312", "py3.12", "Python 3.12", or a small typo.
func suggestRuntime(n string) string {
	known := knownNames()
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' {
			return r
		}
		return -1
	}, n)
	if digits != "" {
		for _, k := range known {
			v := strings.TrimPrefix(k, "python")
			if digits == v || digits == strings.ReplaceAll(v, ".", "") {
				return k
			}
		}
		if _, ok := retiredRuntimes["python"+digits]; ok {
			return ""
		}
	}
	return names.Closest(n, known, 2)
}

// Target is what to build for: a Lambda runtime (or a custom Python + glibc)
// on one architecture. It is a comparable value.
type Target struct {
	Runtime                  string // "python3.12"; "" for a custom target
	Arch                     Arch
	PythonMajor, PythonMinor int
	PythonFull               string // "3.12.11" (approximate for runtimes)
	GlibcMajor, GlibcMinor   int
}

// New returns the target for a Lambda runtime ("python3.12") and an
// architecture (any ParseArch alias; "" means x86_64, Lambda's default).
func New(runtime, arch string) (Target, error) {
	r, err := LookupRuntime(runtime)
	if err != nil {
		return Target{}, err
	}
	a := X86_64
	if arch != "" {
		if a, err = ParseArch(arch); err != nil {
			return Target{}, err
		}
	}
	if !slices.Contains(r.Architectures, a) {
		return Target{}, fmt.Errorf("runtime %s does not run on %s (it runs on %v)", r.Name, a, r.Architectures)
	}
	pm, pn, err := majorMinor(r.Python)
	if err != nil {
		return Target{}, fmt.Errorf("runtime table row %s: %w", r.Name, err)
	}
	gm, gn, err := majorMinor(r.Glibc)
	if err != nil {
		return Target{}, fmt.Errorf("runtime table row %s: %w", r.Name, err)
	}
	return Target{Runtime: r.Name, Arch: a, PythonMajor: pm, PythonMinor: pn, PythonFull: r.PythonFull, GlibcMajor: gm, GlibcMinor: gn}, nil
}

// Custom returns a target that is not a Lambda runtime, such as a distroless
// image: Custom("3.11", "2.36", "arm64") for gcr distroless python3-debian12.
// python may carry a patch level ("3.11.2"); otherwise PythonFull is X.Y.0.
func Custom(python, glibc, arch string) (Target, error) {
	a, err := ParseArch(arch)
	if err != nil {
		return Target{}, err
	}
	pm, pn, err := majorMinor(python)
	if err != nil {
		return Target{}, fmt.Errorf("custom target Python version: %w", err)
	}
	if pm != 3 || pn < 6 {
		return Target{}, fmt.Errorf("custom target Python version %q: lambdapack supports CPython 3.6 and later", python)
	}
	full := python
	if strings.Count(python, ".") == 1 {
		full = python + ".0"
	} else if _, err := strconv.Atoi(python[strings.LastIndexByte(python, '.')+1:]); err != nil || strings.Count(python, ".") != 2 {
		return Target{}, fmt.Errorf("custom target Python version %q: want X.Y or X.Y.Z", python)
	}
	gm, gn, err := majorMinor(glibc)
	if err != nil {
		return Target{}, fmt.Errorf("custom target glibc version: %w", err)
	}
	if gm < 2 {
		return Target{}, fmt.Errorf("custom target glibc version %q: want 2.X (2.17 or later for arm64)", glibc)
	}
	return Target{Arch: a, PythonMajor: pm, PythonMinor: pn, PythonFull: full, GlibcMajor: gm, GlibcMinor: gn}, nil
}

// majorMinor reads "3.12" or "3.12.4" into 3, 12.
func majorMinor(s string) (int, int, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, fmt.Errorf("version %q: want X.Y", s)
	}
	var nums [2]int
	for i := range 2 {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 || strconv.Itoa(n) != parts[i] {
			return 0, 0, fmt.Errorf("version %q: want X.Y", s)
		}
		nums[i] = n
	}
	return nums[0], nums[1], nil
}

// String names the target: "python3.12/arm64", or for a custom target
// "python3.11+glibc2.36/arm64".
func (t Target) String() string {
	if t.Runtime != "" {
		return t.Runtime + "/" + string(t.Arch)
	}
	return "python" + t.Python() + "+glibc" + t.Glibc() + "/" + string(t.Arch)
}

// Python is "3.12".
func (t Target) Python() string { return fmt.Sprintf("%d.%d", t.PythonMajor, t.PythonMinor) }

// Glibc is the glibc ceiling, "2.34".
func (t Target) Glibc() string { return fmt.Sprintf("%d.%d", t.GlibcMajor, t.GlibcMinor) }

// Environment is the PEP 508 marker environment of the target, as CPython on
// Lambda reports it. platform_release and platform_version describe the
// kernel, which Lambda does not promise: they are left empty, so a marker
// comparing them is false rather than true by accident.
func (t Target) Environment() pep508.Environment {
	return pep508.Environment{
		"os_name":                        "posix",
		"sys_platform":                   "linux",
		"platform_system":                "Linux",
		"platform_machine":               t.Arch.Machine(),
		"platform_python_implementation": "CPython",
		"implementation_name":            "cpython",
		"implementation_version":         t.PythonFull,
		"python_version":                 t.Python(),
		"python_full_version":            t.PythonFull,
		"platform_release":               "",
		"platform_version":               "",
	}
}

// Platforms lists the platform tags the target accepts, best first: the
// manylinux tags up to its glibc ceiling (never musllinux, never linux_*).
func (t Target) Platforms() []string {
	return tags.ManylinuxPlatforms(t.Arch.Machine(), t.GlibcMajor, t.GlibcMinor)
}

var rankers sync.Map // Target -> *tags.Ranker

func (t Target) ranker() *tags.Ranker {
	if r, ok := rankers.Load(t); ok {
		return r.(*tags.Ranker)
	}
	r, _ := rankers.LoadOrStore(t, tags.NewRanker(tags.CPythonTags(t.PythonMajor, t.PythonMinor, t.Platforms())))
	return r.(*tags.Ranker)
}

// Tags is the best-first list of wheel tags the target accepts (a copy).
func (t Target) Tags() []tags.Tag { return slices.Clone(t.ranker().Tags()) }

// TagRank is tag's position in Tags (0 = best); false when not accepted.
// The lookup table is built once per target.
func (t Target) TagRank(tag tags.Tag) (int, bool) { return t.ranker().Rank(tag) }

// WheelRank is the best rank among a wheel's tags; false when the wheel
// does not install on the target.
func (t Target) WheelRank(w tags.WheelFilename) (int, bool) { return t.ranker().Best(w.Tags) }
